using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Messaging;

/// <summary>Recognises the connectors' failures that mean "this credential does not work", whatever message hit them.</summary>
public static class CredentialFailures
{
    /// <summary>A <see cref="ConnectorUnavailableException"/> for a refused or unobtainable credential; null for anything else.</summary>
    public static ConnectorUnavailableException? AsConnectorUnavailable(Exception ex) => ex switch
    {
        ConnectorUnavailableException already => already,
        ServiceNowUnauthorizedException sn => new ConnectorUnavailableException("serviceNow", $"credentials refused (401): {sn.Message}", sn),
        ServiceNowForbiddenException sn => new ConnectorUnavailableException("serviceNow", $"access denied (403): {sn.Message}", sn),
        GraphRequestException { StatusCode: 401 or 403 } g => new ConnectorUnavailableException("graph", $"credentials refused ({g.StatusCode}): {g.Message}", g),
        // Azure.Identity's failures to get a token, named rather than referenced: flows do not depend on Azure.Identity.
        _ when ex.GetType().FullName is "Azure.Identity.AuthenticationFailedException" or "Azure.Identity.CredentialUnavailableException" =>
            new ConnectorUnavailableException("graph", $"no token: {ex.Message}", ex),
        _ => null,
    };
}
