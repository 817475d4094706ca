using EntraSnow.Connectors.Graph;

namespace EntraSnow.LocalHost.Cli;

/// <summary>The doctor's check that Graph serves signInActivity, which the inactive sweep cannot work without.</summary>
internal static class InactiveSweepDoctor
{
    /// <summary>Reads the sweep's first page (users with signInActivity): Graph answers, or refuses signInActivity, which this names.</summary>
    public static async Task<string> ProbeSignInActivityAsync(IDirectory directory)
    {
        var longAgo = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        try
        {
            await foreach (var _ in directory.GetInactiveCandidatesAsync(new InactiveCandidateQuery(longAgo, longAgo), null))
            {
                break;
            }

            return "available";
        }
        catch (GraphRequestException ex) when (ex.StatusCode is 403 or 400)
        {
            var why = ex.ErrorCode switch
            {
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant" => "the tenant has no Entra ID P1 licence",
                "Authorization_RequestDenied" => "the app lacks the AuditLog.Read.All application permission",
                _ => $"Graph refused it ({ex.ErrorCode ?? ex.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)})",
            };
            throw new InvalidOperationException(
                $"signInActivity is unavailable: {why}. The inactive sweep needs Entra ID P1 and AuditLog.Read.All (granted by the postprovision hook).", ex);
        }
    }
}
