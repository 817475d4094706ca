using System.Globalization;
using System.Text.Json;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.ProvisioningLog;

namespace EntraSnow.LocalHost.ProvisioningLog;

/// <summary>
/// The local host's <c>log</c> and <c>sync</c> commands as plain text, so they work in any terminal and in tests:
/// <c>log [--user ID | --run ID] [--limit N] [--json]</c> and <c>sync [--from-link]</c> (progress, then the summary).
/// </summary>
public static class ProvisioningCommands
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<int> LogAsync(IProvisioningLog log, string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        var limit = int.TryParse(Value(args, "--limit"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 50;
        var user = Value(args, "--user");
        var run = Value(args, "--run");
        var entries = run is not null
            ? await log.GetByCorrelationAsync(run, cancellationToken)
            : user is not null
                ? await log.GetBySubjectAsync(user, limit, cancellationToken)
                : await log.GetRecentAsync(limit, cancellationToken);

        if (args.Contains("--json"))
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(entries.Select(e => new
            {
                e.Timestamp, e.CorrelationId, e.MessageId, e.SubjectId, e.ObjectKind, Action = ProvisioningLogEntry.ActionName(e.Action), e.ChangedFields, e.Reason, e.TargetSysId,
            }), Json));
            return 0;
        }

        if (entries.Count == 0)
        {
            await output.WriteLineAsync("No provisioning decisions recorded yet.");
            return 0;
        }

        foreach (var entry in entries)
        {
            var fields = entry.ChangedFields.Count == 0 ? string.Empty : $" [{string.Join(", ", entry.ChangedFields)}]";
            var reason = string.IsNullOrEmpty(entry.Reason) ? string.Empty : $" — {entry.Reason}";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{entry.Timestamp:yyyy-MM-dd HH:mm:ss} {ProvisioningLogEntry.ActionName(entry.Action),-11} {entry.ObjectKind,-5} {entry.SubjectId}{fields}{reason}  ({entry.CorrelationId})"));
        }

        if (run is not null)
        {
            await WriteSummaryAsync(await log.GetSummaryAsync(run, cancellationToken), output);
        }

        return 0;
    }

    /// <summary>
    /// Runs (or resumes) a full sync, showing its progress until it completes (a bar on a terminal, a line every few
    /// seconds when the output is redirected: <see cref="SyncProgressOutput"/>), then the summary.
    /// </summary>
    public static async Task<int> SyncAsync(FullSyncRunner sync, string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        var fromScratch = !args.Contains("--from-link");
        var progress = SyncProgressOutput.For(output, TimeProvider.System);
        var final = await sync.RunAsync(progress, fromScratch, cancellationToken);
        await output.WriteLineAsync();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Full sync {final.RunId} {(final.TimedOut ? "stopped waiting" : "finished")} in {((final.CompletedAt ?? DateTimeOffset.UtcNow) - final.StartedAt).TotalSeconds:F1} s."));
        await WriteSummaryAsync(final.Summary, output);
        return final.Summary.Users.Failed + final.Summary.Groups.Failed > 0 || final.TimedOut ? 1 : 0;
    }

    public static async Task WriteSummaryAsync(ProvisioningSummary summary, TextWriter output)
    {
        static string Line(string what, ActionCounts c) => string.Create(CultureInfo.InvariantCulture,
            $"{what,-6} created {c.Created}, adopted {c.Adopted}, updated {c.Updated}, unchanged {c.Unchanged}, deactivated {c.Deactivated}, skipped {c.Skipped}, conflicts {c.Conflicts}, failed {c.Failed}");
        await output.WriteLineAsync(Line("users", summary.Users));
        await output.WriteLineAsync(Line("groups", summary.Groups));
        foreach (var conflict in summary.Conflicts ?? [])
        {
            await output.WriteLineAsync($"  conflict {conflict.ObjectKind} {conflict.SubjectId}: {conflict.Reason}");
        }

        foreach (var failure in summary.Failures)
        {
            await output.WriteLineAsync($"  failed {failure.ObjectKind} {failure.SubjectId}: {failure.Reason}");
        }
    }

    private static string? Value(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
