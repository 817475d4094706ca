using System.Globalization;
using Microsoft.Graph.Models;

namespace EntraSnow.Connectors.Graph;

/// <summary>The directory audit log (AuditLog.Read.All): who changed what.</summary>
internal sealed partial class GraphDirectory
{
    // Graph's largest directoryAudits page.
    private const int AuditPageSize = 999;

    public async Task<IReadOnlyList<DirectoryAuditEntry>> GetDirectoryAuditsAsync(DirectoryAuditQuery query, CancellationToken cancellationToken = default)
    {
        // The filters Graph documents for directoryAudits: activityDateTime ge/le and targetResources/any(t: t/id eq '…').
        // Whole seconds, widened outwards: an entry a fraction of a second before "now" is still in the window.
        var filter = $"activityDateTime ge {AuditTime(query.From)} and activityDateTime le {AuditTime(query.To.AddTicks(TimeSpan.TicksPerSecond - 1))}"
            + $" and targetResources/any(t:t/id eq '{query.TargetId.Replace("'", "''", StringComparison.Ordinal)}')";
        var entries = new List<DirectoryAuditEntry>();
        var page = await GraphErrors.RunAsync("GET directoryAudits", () => client.AuditLogs.DirectoryAudits.GetAsync(c =>
        {
            c.QueryParameters.Filter = filter;
            c.QueryParameters.Top = Math.Min(AuditPageSize, Math.Max(1, query.MaxEntries));
        }, cancellationToken), cancellationToken);
        while (page is not null)
        {
            entries.AddRange((page.Value ?? []).Where(a => a.Id is not null).Select(ToAuditEntry));
            if (entries.Count >= query.MaxEntries || page.OdataNextLink is not { } next)
            {
                break;
            }

            page = await GraphErrors.RunAsync("GET directoryAudits",
                () => client.AuditLogs.DirectoryAudits.WithUrl(next).GetAsync(cancellationToken: cancellationToken), cancellationToken);
        }

        return entries.Count > query.MaxEntries ? entries[..query.MaxEntries] : entries;
    }

    private static string AuditTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static DirectoryAuditEntry ToAuditEntry(DirectoryAudit audit) => new()
    {
        Id = audit.Id!,
        Activity = audit.ActivityDisplayName,
        ActivityDateTime = audit.ActivityDateTime ?? DateTimeOffset.MinValue,
        Result = audit.Result?.ToString(),
        Targets = audit.TargetResources?.Where(t => t.Id is not null)
            .Select(t => new AuditTarget(t.Id!, t.Type, t.DisplayName, t.UserPrincipalName)).ToList() ?? [],
        UserId = audit.InitiatedBy?.User?.Id,
        UserPrincipalName = audit.InitiatedBy?.User?.UserPrincipalName,
        UserDisplayName = audit.InitiatedBy?.User?.DisplayName,
        AppId = audit.InitiatedBy?.App?.AppId,
        AppDisplayName = audit.InitiatedBy?.App?.DisplayName,
    };
}
