using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;

namespace EntraSnow.Flows.Provisioning;

/// <summary>Turns the connectors' typed failures into the two the message processor understands.</summary>
internal static class FailureTranslation
{
    /// <summary>A transient or permanent failure for <paramref name="ex"/>; null when it is neither (a bug: let it surface).</summary>
    public static Exception? Translate(Exception ex) => ex switch
    {
        TransientFailureException or PermanentFailureException => ex,
        _ when CredentialFailures.AsConnectorUnavailable(ex) is { } paused => paused,
        ServiceNowRateLimitedException rl => new TransientFailureException($"ServiceNow is throttling: {rl.Message}", rl, rl.RetryAfter),
        ServiceNowException { IsTransient: true } sn => new TransientFailureException($"ServiceNow is unavailable: {sn.Message}", sn),
        ServiceNowException sn => new PermanentFailureException(Describe(sn), sn),
        GraphUnavailableException g => new TransientFailureException($"Graph is unavailable: {g.Message}", g, g.RetryAfter),
        GraphRequestException g => new PermanentFailureException($"Graph refused the request ({g.StatusCode} {g.ErrorCode}): {g.Message}", g),
        GraphMalformedItemException g => new PermanentFailureException(g.Message, g),
        HttpRequestException h => new TransientFailureException($"Network failure: {h.Message}", h),
        UnresolvedReferenceException r => new PermanentFailureException(r.Message, r),
        _ => null,
    };

    private static string Describe(ServiceNowException ex) =>
        ex.StatusCode is { } status
            ? $"ServiceNow refused the write ({status}): {ex.Message}{(string.IsNullOrEmpty(ex.Detail) ? string.Empty : " — " + ex.Detail)}"
            : ex.Message;
}
