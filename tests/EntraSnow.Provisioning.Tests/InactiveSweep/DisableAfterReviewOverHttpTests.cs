using System.Text.Json.Nodes;
using EntraSnow.Flows.InactiveSweep;

namespace EntraSnow.Provisioning.Tests.InactiveSweep;

/// <summary>The action after a review, against both emulators: reviewers answer on the ServiceNow task, Graph's accounts change.</summary>
public sealed class DisableAfterReviewOverHttpTests
{
    private static async Task<(SweepHarness Harness, string BreakGlassGroup)> StartAsync(Dictionary<string, string?> settings)
    {
        var h = await SweepHarness.StartAsync();
        h.Seed(150);
        var group = await h.Graph.Emulator.CreateGroupAsync("Break glass");
        await h.RestartAsync(new Dictionary<string, string?>(settings)
        {
            ["InactiveSweep:DisableAccounts"] = "true",
            ["InactiveSweep:BreakGlassGroupIds:0"] = group,
        });
        return (h, group);
    }

    private static string UserOf(IReadOnlyDictionary<string, string> task) => ReviewCorrelation.UserOf(task["correlation_id"])!;

    private static bool Enabled(SweepHarness h, string userId) => h.Graph.Emulator.GetUser(userId)!["accountEnabled"]!.GetValue<bool>();

    private static void Answer(SweepHarness h, IReadOnlyDictionary<string, string> task, string approval) =>
        h.ServiceNow.Store.Update("sc_task", task["sys_id"], new Dictionary<string, string> { ["approval"] = approval });

    [Fact]
    public async Task An_approved_review_disables_the_account_a_rejected_one_keeps_it_and_break_glass_is_refused()
    {
        var (h, breakGlass) = await StartAsync([]);
        await using var _ = h;
        await h.Runner.RunAsync();
        var tasks = h.Tasks();
        var (approved, rejected, guarded) = (tasks[0], tasks[1], tasks[2]);
        Answer(h, approved, "approved");
        Answer(h, rejected, "rejected");
        Answer(h, guarded, "approved");
        // Made break-glass after its review was raised: the membership read at action time protects it.
        await h.Graph.Emulator.AddGroupMemberAsync(breakGlass, UserOf(guarded));

        var report = await h.Runner.RunAsync();

        Assert.Equal(1, report.Disabled);
        Assert.Equal(1, report.Refused);
        Assert.False(Enabled(h, UserOf(approved)));
        Assert.True(Enabled(h, UserOf(rejected)));
        Assert.True(Enabled(h, UserOf(guarded)));
        var closed = h.ServiceNow.Store.Get("sc_task", approved["sys_id"])!;
        Assert.Equal("3", closed["state"]);
        Assert.Equal("false", closed["active"]);
        Assert.Contains(h.ServiceNow.Store.Journal("sc_task", approved["sys_id"]), n => n.Contains("EntraSnow disabled", StringComparison.Ordinal));
        Assert.Equal("true", h.ServiceNow.Store.Get("sc_task", rejected["sys_id"])!["active"]);
        var refused = h.ServiceNow.Store.Get("sc_task", guarded["sys_id"])!;
        Assert.Equal("4", refused["state"]);
        Assert.Contains("break-glass", refused["close_notes"], StringComparison.Ordinal);
        Assert.All(tasks.Skip(3), t => Assert.True(Enabled(h, UserOf(t))));

        // Nothing left to do: the next run in the cycle writes nothing anywhere.
        h.ServiceNow.Counters.Reset();
        var again = await h.Runner.RunAsync();
        Assert.Equal(0, again.Disabled);
        Assert.Equal(0, h.ServiceNow.Counters.Writes());
    }

    [Fact]
    public async Task Reviews_approved_and_closed_in_one_step_are_acted_on_once_and_never_from_an_older_cycle()
    {
        var (h, breakGlass) = await StartAsync([]);
        await using var _ = h;
        await h.Runner.RunAsync();
        var tasks = h.Tasks();
        var (approved, restored, guarded) = (tasks[0], tasks[1], tasks[2]);
        // The reviewer approves and closes in one step (Closed Complete: the instance makes the task inactive).
        foreach (var task in new[] { approved, restored, guarded })
        {
            h.ServiceNow.Store.Update("sc_task", task["sys_id"], new Dictionary<string, string>
            {
                ["approval"] = "approved", ["state"] = "3", ["close_notes"] = "Confirmed with the manager: not needed.",
            });
        }

        await h.Graph.Emulator.AddGroupMemberAsync(breakGlass, UserOf(guarded));
        // Approved and closed two cycles ago, before the action was switched on: never acted on.
        var old = h.ServiceNow.Store.Insert("sc_task", new Dictionary<string, string>
        {
            ["correlation_id"] = ReviewCorrelation.ForAccount(UserOf(tasks[3]), "2026-10"),
            ["approval"] = "approved", ["state"] = "3", ["close_notes"] = "Approved.",
        });

        var report = await h.Runner.RunAsync();

        Assert.Equal("false", old["active"]);
        Assert.Equal(2, report.Disabled);
        Assert.Equal(1, report.Refused);
        Assert.False(Enabled(h, UserOf(approved)));
        Assert.False(Enabled(h, UserOf(restored)));
        Assert.True(Enabled(h, UserOf(guarded)));
        Assert.True(Enabled(h, UserOf(tasks[3])));
        var noted = h.ServiceNow.Store.Get("sc_task", approved["sys_id"])!;
        Assert.Equal("3", noted["state"]);
        Assert.StartsWith("Confirmed with the manager: not needed.", noted["close_notes"], StringComparison.Ordinal);
        Assert.Contains("EntraSnow disabled", noted["close_notes"], StringComparison.Ordinal);
        Assert.Contains(h.ServiceNow.Store.Journal("sc_task", approved["sys_id"]), n => n.Contains("EntraSnow disabled", StringComparison.Ordinal));
        Assert.Contains("break-glass", h.ServiceNow.Store.Get("sc_task", guarded["sys_id"])!["close_notes"], StringComparison.Ordinal);

        // An administrator turns one account back on: the next run leaves it on and writes nothing anywhere.
        await h.Graph.Emulator.ChangeUserAsync(UserOf(restored), new JsonObject { ["accountEnabled"] = true });
        h.ServiceNow.Counters.Reset();
        var again = await h.Runner.RunAsync();

        Assert.Equal(0, again.Disabled);
        Assert.True(Enabled(h, UserOf(restored)));
        Assert.Equal(0, h.ServiceNow.Counters.Writes());
    }

    [Fact]
    public async Task Reviews_unanswered_for_the_grace_period_disable_their_accounts_except_one_that_signed_in_again()
    {
        var (h, _) = await StartAsync(new() { ["InactiveSweep:GraceDays"] = "14" });
        await using var __ = h;
        var first = await h.Runner.RunAsync();
        var tasks = h.Tasks();
        var returning = UserOf(tasks[0]);

        h.Clock.Now = SweepHarness.Now.AddDays(13);
        var early = await h.Runner.RunAsync();
        h.Clock.Now = SweepHarness.Now.AddDays(15);
        var signedIn = h.Clock.Now.AddHours(-5);
        await h.Graph.Emulator.ChangeUserAsync(returning, new JsonObject
        {
            ["signInActivity"] = new JsonObject { ["lastSuccessfulSignInDateTime"] = signedIn.ToString("o"), ["lastSignInDateTime"] = signedIn.ToString("o") },
        });
        var late = await h.Runner.RunAsync();

        Assert.True(first.Raised > 2);
        Assert.Equal(0, early.Disabled);
        Assert.Equal(first.Raised - 1, late.Disabled);
        Assert.Equal(1, late.Closed);
        Assert.True(Enabled(h, returning));
        Assert.Contains("signed in again", h.ServiceNow.Store.Get("sc_task", tasks[0]["sys_id"])!["close_notes"], StringComparison.Ordinal);
        Assert.All(tasks.Skip(1), t => Assert.False(Enabled(h, UserOf(t))));
        Assert.All(tasks, t => Assert.Equal("false", h.ServiceNow.Store.Get("sc_task", t["sys_id"])!["active"]));
        // Accounts that crossed the threshold during those 15 days got reviews of their own, still within their grace period.
        Assert.All(h.Tasks().Where(t => t["active"] == "true"), t => Assert.True(Enabled(h, UserOf(t))));
    }

    [Fact]
    public async Task A_dry_run_reports_the_accounts_it_would_disable_and_changes_nothing()
    {
        var (h, _) = await StartAsync([]);
        await using var __ = h;
        await h.Runner.RunAsync();
        var approved = h.Tasks()[0];
        Answer(h, approved, "approved");
        h.ServiceNow.Counters.Reset();

        var report = await h.Runner.RunAsync(new SweepRunRequest { DryRun = true });

        Assert.Equal(1, report.Disabled);
        Assert.True(Enabled(h, UserOf(approved)));
        Assert.Equal(0, h.ServiceNow.Counters.Writes());
    }
}
