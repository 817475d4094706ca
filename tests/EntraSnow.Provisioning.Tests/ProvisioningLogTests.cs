using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.ProvisioningLog;

namespace EntraSnow.Provisioning.Tests;

public sealed class ProvisioningLogTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "entrasnow-log-" + Guid.NewGuid().ToString("N"));
    private readonly DateTimeOffset _now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    private static ProvisioningLogEntry Entry(string correlation, string subject, ProvisioningAction action, DateTimeOffset at,
        string kind = ProvisioningObjectKinds.User, string? reason = null, params string[] fields) => new()
        {
            Timestamp = at,
            CorrelationId = correlation,
            MessageId = $"{correlation}:{subject}:{at.Ticks}",
            SubjectId = subject,
            ObjectKind = kind,
            Action = action,
            ChangedFields = fields,
            Reason = reason,
            TargetSysId = "sys-" + subject,
        };

    [Fact]
    public async Task The_SQLite_log_keeps_every_decision_across_reopening_and_answers_each_query()
    {
        var path = Path.Combine(_folder, "provisioning-log.db");
        var log = new SqliteProvisioningLog(path);
        await log.AppendAsync(Entry("run-1", "u1", ProvisioningAction.Created, _now, fields: ["user_name", "email"]));
        await log.AppendAsync(Entry("run-1", "u2", ProvisioningAction.Failed, _now.AddSeconds(1), reason: "No cmn_department record has name 'Research'"));
        await log.AppendAsync(Entry("msg-7", "u1", ProvisioningAction.Deactivated, _now.AddSeconds(2), reason: "account disabled in Entra ID", fields: ["active", "locked_out"]));

        var reopened = new SqliteProvisioningLog(path);

        var recent = await reopened.GetRecentAsync(2);
        Assert.Equal(["u1", "u2"], recent.Select(e => e.SubjectId));
        Assert.Equal(ProvisioningAction.Deactivated, recent[0].Action);
        Assert.Equal(["active", "locked_out"], recent[0].ChangedFields);
        Assert.Equal(_now.AddSeconds(2), recent[0].Timestamp);

        var history = await reopened.GetBySubjectAsync("u1", 10);
        Assert.Equal([ProvisioningAction.Deactivated, ProvisioningAction.Created], history.Select(e => e.Action));

        var run = await reopened.GetByCorrelationAsync("run-1");
        Assert.Equal(["u1", "u2"], run.Select(e => e.SubjectId));

        var summary = await reopened.GetSummaryAsync("run-1");
        Assert.Equal(1, summary.Users.Created);
        Assert.Equal(1, summary.Users.Failed);
        Assert.Equal("No cmn_department record has name 'Research'", Assert.Single(summary.Failures).Reason);
    }

    [Fact]
    public async Task The_log_command_shows_a_user_s_history_with_the_fields_and_reasons()
    {
        var log = new SqliteProvisioningLog(Path.Combine(_folder, "provisioning-log.db"));
        await log.AppendAsync(Entry("run-1", "u1", ProvisioningAction.Created, _now, fields: ["user_name", "email"]));
        await log.AppendAsync(Entry("msg-7", "u1", ProvisioningAction.Deactivated, _now.AddSeconds(2), reason: "account disabled in Entra ID", fields: ["active", "locked_out"]));
        var output = new StringWriter();

        var exit = await ProvisioningCommands.LogAsync(log, ["--user", "u1"], output);

        Assert.Equal(0, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("deactivated", lines[0]);
        Assert.Contains("[active, locked_out] — account disabled in Entra ID", lines[0]);
        Assert.Contains("created", lines[1]);
        Assert.Contains("[user_name, email]", lines[1]);
    }

    [Fact]
    public void A_summary_counts_each_object_once_by_its_most_significant_action()
    {
        var summary = ProvisioningSummary.FromEntries(
        [
            Entry("run", "u1", ProvisioningAction.Created, _now),
            Entry("run", "u1", ProvisioningAction.Unchanged, _now.AddSeconds(1)),
            Entry("run", "u2", ProvisioningAction.Failed, _now, reason: "ServiceNow refused"),
            Entry("run", "u2", ProvisioningAction.Updated, _now.AddSeconds(1)),
            Entry("run", "u3", ProvisioningAction.Skipped, _now, reason: "out of scope"),
            Entry("run", "g1", ProvisioningAction.Created, _now, kind: ProvisioningObjectKinds.Group),
        ]);

        Assert.Equal(new ActionCounts(1, 1, 0, 1, 0, 0), summary.Users);
        Assert.Equal(1, summary.Groups.Created);
        Assert.Empty(summary.Failures);
    }

    [Fact]
    public async Task Entries_written_together_to_the_SQLite_log_are_each_kept_in_order_and_counted()
    {
        var log = new SqliteProvisioningLog(Path.Combine(_folder, "provisioning-log.db"));
        var chunk = Enumerable.Range(0, 150)
            .Select(i => Entry("run-1", $"u{i:D3}", ProvisioningAction.Unchanged, _now.AddMilliseconds(i), reason: i == 7 ? "out of scope: no department" : null))
            .ToList();

        await log.AppendManyAsync(chunk);
        await log.AppendManyAsync([]);

        var run = await log.GetByCorrelationAsync("run-1");
        Assert.Equal(chunk.Select(e => e.SubjectId), run.Select(e => e.SubjectId));
        Assert.Equal("out of scope: no department", run[7].Reason);
        Assert.Equal("sys-u149", run[149].TargetSysId);
        Assert.Equal(150, (await log.GetSummaryAsync("run-1")).Users.Unchanged);
    }

    [Fact]
    public async Task The_SQLite_summary_counts_what_the_in_memory_rule_counts_with_the_failures_and_conflicts_reasons()
    {
        var log = new SqliteProvisioningLog(Path.Combine(_folder, "provisioning-log.db"));
        ProvisioningLogEntry[] entries =
        [
            Entry("run", "u1", ProvisioningAction.Created, _now),
            Entry("run", "u1", ProvisioningAction.Unchanged, _now.AddSeconds(1)),
            Entry("run", "u2", ProvisioningAction.Failed, _now, reason: "ServiceNow refused"),
            Entry("run", "u2", ProvisioningAction.Updated, _now.AddSeconds(1)),
            Entry("run", "u3", ProvisioningAction.Failed, _now.AddSeconds(2), reason: "first try"),
            Entry("run", "u3", ProvisioningAction.Failed, _now.AddSeconds(3), reason: "No cmn_department record has name 'Research'"),
            Entry("run", "u4", ProvisioningAction.Conflict, _now.AddSeconds(1), reason: "conflict: two records match"),
            Entry("run", "u4", ProvisioningAction.Skipped, _now.AddSeconds(4), reason: "out of scope"),
            Entry("run", "u5", ProvisioningAction.Adopted, _now),
            Entry("run", "u6", ProvisioningAction.Deactivated, _now),
            Entry("run", "g1", ProvisioningAction.Created, _now, kind: ProvisioningObjectKinds.Group),
            Entry("run", "g1", ProvisioningAction.Unchanged, _now.AddSeconds(5), kind: ProvisioningObjectKinds.Group),
            Entry("run", "g2", ProvisioningAction.Failed, _now.AddSeconds(1), kind: ProvisioningObjectKinds.Group, reason: "member missing"),
            Entry("other-run", "u1", ProvisioningAction.Deactivated, _now),
        ];
        foreach (var entry in entries)
        {
            await log.AppendAsync(entry);
        }

        var summary = await log.GetSummaryAsync("run");

        var expected = ProvisioningSummary.FromEntries(entries.Where(e => e.CorrelationId == "run"));
        Assert.Equal(new ActionCounts(1, 1, 0, 0, 1, 1, Adopted: 1, Conflicts: 1), summary.Users);
        Assert.Equal(expected.Users, summary.Users);
        Assert.Equal(expected.Groups, summary.Groups);
        Assert.Equal([("g2", "member missing"), ("u3", "No cmn_department record has name 'Research'")],
            summary.Failures.Select(f => (f.SubjectId, f.Reason)));
        Assert.Equal(expected.Failures, summary.Failures);
        Assert.Equal("conflict: two records match", Assert.Single(summary.Conflicts!).Reason);
    }

    [Fact]
    public async Task A_run_s_summary_is_counted_in_SQLite_so_its_cost_in_memory_does_not_grow_with_the_run()
    {
        var log = new SqliteProvisioningLog(Path.Combine(_folder, "provisioning-log.db"));
        for (var i = 0; i < 5_000; i++)
        {
            await log.AppendAsync(Entry("big-run", $"user-{i:D5}", i % 10 == 0 ? ProvisioningAction.Created : ProvisioningAction.Unchanged, _now.AddMilliseconds(i)));
        }

        await log.GetSummaryAsync("big-run"); // Warm: the first call compiles what later calls reuse.
        // Microsoft.Data.Sqlite runs its async calls synchronously, so the current thread's count is the summary's.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var summary = await log.GetSummaryAsync("big-run");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(500, summary.Users.Created);
        Assert.Equal(4_500, summary.Users.Unchanged);
        // The 5,000 entries read into memory were over a megabyte; counted where they are, a few kilobytes.
        Assert.True(allocated < 64 * 1024, $"summarising 5,000 entries allocated {allocated:N0} bytes");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
