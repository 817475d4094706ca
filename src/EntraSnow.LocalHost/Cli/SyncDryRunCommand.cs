using System.Globalization;
using System.Text;
using System.Text.Json;
using EntraSnow.Flows.FullSync.DryRun;
using EntraSnow.Flows.ProvisioningLog;
using Spectre.Console;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// <c>sync --dry-run [--json | --csv FILE]</c>: what a full sync would create, adopt, update (field by field), deactivate or
/// leave and why, decided by the sync's own code (<see cref="SyncDryRun"/>); nothing is written. A table and totals, JSON,
/// or a CSV file (one row per changed field); progress goes to standard error.
/// </summary>
internal static class SyncDryRunCommand
{
    // A sandbox served by this command only answers reads: no consumer, timer or first sync of its own.
    private static readonly string[] ServeQuietly = ["--LocalHost:RunConsumers=false", "--LocalHost:RunTimers=false", "--Sandbox:Seed:InitialSync=false"];

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var json = LocalHostCommandLine.Flag(args, "--json");
        var csv = LocalHostCommandLine.Option(args, "--csv");
        if (LocalHostCommandLine.Flag(args, "--csv") && csv is null or { Length: 0 } || csv?.StartsWith('-') == true)
        {
            await output.WriteLineAsync("usage: sync --dry-run [--json | --csv FILE]");
            return 2;
        }

        var settings = args.Where((a, i) => a is not ("--dry-run" or "--csv") && !(i > 0 && args[i - 1] == "--csv")).Concat(ServeQuietly).ToArray();
        await using var scope = await CommandScope.OpenAsync(settings);
        await using var emulators = await ServedEmulators.EnsureAsync(scope);
        var progress = new DryRunProgressLine(Console.Error);
        var report = await scope.App.Services.GetRequiredService<SyncDryRun>().RunAsync(progress);
        progress.End();

        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(Json(report), LocalHostCommandLine.WebJson));
            return 0;
        }

        if (csv is not null)
        {
            var rows = await WriteCsvAsync(report, csv);
            await output.WriteLineAsync($"Wrote {rows} row(s) to {csv}.");
        }
        else
        {
            WriteTable(report, output);
        }

        await WriteTotalsAsync(report, output);
        return 0;
    }

    private static void WriteTable(DryRunReport report, TextWriter output)
    {
        var rows = report.Objects.Where(o => o.NeedsAttention).ToList();
        if (rows.Count == 0)
        {
            output.WriteLine("Nothing to do: every user and group is as the sync would leave it.");
            return;
        }

        var table = new Table().AddColumns("kind", "user / group", "would be", "changes (old → new)", "why");
        foreach (var o in rows)
        {
            table.AddRow(o.ObjectKind, Markup.Escape(o.Name ?? o.ObjectId), ProvisioningLogEntry.ActionName(o.Action),
                Markup.Escape(Changes(o)), Markup.Escape(o.Reason ?? string.Empty));
        }

        var terminal = LocalHostCommandLine.Terminal(output);
        // Redirected output is 80 columns by default: every cell would wrap.
        terminal.Profile.Width = Math.Max(terminal.Profile.Width, 180);
        terminal.Write(table);
    }

    private static string Changes(PlannedChange change) => change.Action == ProvisioningAction.Created
        ? $"new record: {string.Join(", ", change.Fields.Select(f => $"{f.Field} '{f.New}'"))}"
        : string.Join("\n", change.Fields.Select(f => $"{f.Field}: '{f.Old}' → '{f.New}'"));

    private static async Task WriteTotalsAsync(DryRunReport report, TextWriter output)
    {
        static string Line(string what, ActionCounts c) => string.Create(CultureInfo.InvariantCulture,
            $"{what,-6} would be created {c.Created}, adopted {c.Adopted}, updated {c.Updated}, deactivated {c.Deactivated}; unchanged {c.Unchanged}, skipped {c.Skipped}, conflicts {c.Conflicts}, failed {c.Failed}");
        await output.WriteLineAsync(Line("users", report.Summary.Users));
        await output.WriteLineAsync(Line("groups", report.Summary.Groups));
        if (report.OtherWrites.Count > 0)
        {
            await output.WriteLineAsync($"also: {string.Join(", ", report.OtherWrites.Select(w => $"{w.Count} {Verb(w.Operation)} {w.Target}"))}");
        }

        foreach (var waited in report.StoppedWaiting)
        {
            await output.WriteLineAsync($"not decided: {waited} (still waiting for the users when the dry run stopped)");
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Dry run: nothing was written ({report.WritesHeldBack} write(s) held back)."));
    }

    private static string Verb(PlannedOperation operation) => operation switch
    {
        PlannedOperation.Create => "created in",
        PlannedOperation.Update => "updated in",
        PlannedOperation.Delete => "deleted from",
        _ => "Entra ID call",
    };

    private static object Json(DryRunReport report) => new
    {
        dryRun = true,
        runId = report.RunId,
        objects = report.Objects.Select(o => new
        {
            kind = o.ObjectKind,
            id = o.ObjectId,
            name = o.Name,
            action = ProvisioningLogEntry.ActionName(o.Action),
            sysId = o.SysId,
            changes = o.Fields.Select(f => new { field = f.Field, old = f.Old, @new = f.New }),
            reason = o.Reason,
        }),
        totals = new { users = Counts(report.Summary.Users), groups = Counts(report.Summary.Groups) },
        otherWrites = report.OtherWrites.Select(w => new { operation = w.Operation.ToString().ToLowerInvariant(), target = w.Target, count = w.Count }),
        writesHeldBack = report.WritesHeldBack,
        notDecided = report.StoppedWaiting,
    };

    private static object Counts(ActionCounts c) => new
    {
        created = c.Created, adopted = c.Adopted, updated = c.Updated, deactivated = c.Deactivated,
        unchanged = c.Unchanged, skipped = c.Skipped, conflicts = c.Conflicts, failed = c.Failed,
    };

    /// <summary>One row per changed field (one row for an object with none), RFC 4180 quoting.</summary>
    private static async Task<int> WriteCsvAsync(DryRunReport report, string path)
    {
        var text = new StringBuilder("kind,id,name,action,sys_id,field,old,new,reason\r\n");
        var rows = 0;
        foreach (var o in report.Objects)
        {
            IReadOnlyList<FieldChange> fields = o.Fields.Count == 0 ? [new FieldChange(string.Empty, null, null)] : o.Fields;
            foreach (var f in fields)
            {
                text.AppendJoin(',', new[] { o.ObjectKind, o.ObjectId, o.Name, ProvisioningLogEntry.ActionName(o.Action), o.SysId, f.Field, f.Old, f.New, o.Reason }.Select(Quote));
                text.Append("\r\n");
                rows++;
            }
        }

        await File.WriteAllTextAsync(path, text.ToString());
        return rows;
    }

    private static string Quote(string? value) =>
        value is null ? string.Empty
        : value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    /// <summary>One line on standard error, redrawn: users decided of those queued, groups decided, the phase.</summary>
    private sealed class DryRunProgressLine(TextWriter error) : IProgress<DryRunProgress>
    {
        public void Report(DryRunProgress value) =>
            error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\rdry run: users {value.UsersDecided}/{value.UsersQueued}, groups {value.GroupsDecided} ({value.Phase})   "));

        public void End() => error.WriteLine();
    }
}
