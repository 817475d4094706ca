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
        // A 403 is left to the flows: an ACL refusing one record (one group, say) is a fact about that item.
        GraphRequestException { StatusCode: 401 } g => new ConnectorUnavailableException("graph", $"credentials refused ({g.StatusCode}): {g.Message}", g),
        // Azure.Identity's failures to get a token, named rather than referenced: flows do not depend on Azure.Identity.
        _ when ex.GetType().FullName is "Azure.Identity.AuthenticationFailedException" or "Azure.Identity.CredentialUnavailableException" =>
            new ConnectorUnavailableException("graph", $"no token: {ex.Message}", ex),
        _ => null,
    };
}
