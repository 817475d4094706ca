using System.Text.Json.Nodes;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Provisioning.Tests.InactiveSweep;

public sealed class InactiveSweepOverHttpTests
{
    [Fact]
    public async Task Sweep_raises_one_task_per_inactive_account_naming_what_a_reviewer_needs()
    {
        await using var h = await SweepHarness.StartAsync();
        var seeded = h.Seed(300);
        var expected = h.ExpectedInactive(seeded.UserIds);

        var report = await h.Runner.RunAsync();

        var tasks = h.Tasks();
        Assert.Equal(expected.Count, report.Raised);
        Assert.Equal(expected.Order(), tasks.Select(t => ReviewCorrelation.UserOf(t["correlation_id"])!).Order());
        Assert.All(tasks, t => Assert.EndsWith(":2026-12", t["correlation_id"], StringComparison.Ordinal));
        var group = Assert.Single(h.ServiceNow.Store.Query("sys_user_group", $"name={SweepHarness.ReviewGroup}"));
        Assert.All(tasks, t => Assert.Equal(group["sys_id"], t["assignment_group"]));

        // One account read back field by field: manager, sign-in, created, licences by SKU name, group count.
        var task = tasks.First(t => t["description"].Contains("Licences: SPE_E3", StringComparison.Ordinal) || t["description"].Contains("Licences: ENTERPRISEPACK", StringComparison.Ordinal) || t["description"].Contains("Licences: SPE_E5", StringComparison.Ordinal));
        var userId = ReviewCorrelation.UserOf(task["correlation_id"])!;
        var user = h.Graph.Emulator.GetUser(userId)!;
        Assert.Contains(user["userPrincipalName"]!.GetValue<string>(), task["short_description"], StringComparison.Ordinal);
        Assert.Contains($"Created: {SweepHarness.Parse(user["createdDateTime"]!.GetValue<string>()):yyyy-MM-dd}", task["description"], StringComparison.Ordinal);
        Assert.Contains($"Groups: {seeded.GroupIds.Count(g => h.Graph.Emulator.GroupMemberIds(g).Contains(userId))}", task["description"], StringComparison.Ordinal);
        Assert.DoesNotContain("Manager: none", task["description"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_directory_is_read_once_500_users_a_page_and_reviewer_details_cost_a_call_per_150_accounts()
    {
        await using var h = await SweepHarness.StartAsync();
        var seeded = h.Seed(2500);
        var expected = h.ExpectedInactive(seeded.UserIds);
        h.GraphCalls.Reset();

        var report = await h.Runner.RunAsync();

        // users / 500 pages, then the details of 150 accounts a call whichever pages they came from (one more for the
        // remainder), and the SKU names once.
        Assert.Equal(5, report.Pages);
        Assert.Equal(expected.Count, report.Raised);
        Assert.True(report.Raised > 300);
        Assert.InRange(h.GraphCalls.Requests, report.Pages + 1, report.Pages + ((report.Raised + 149) / 150) + 2);
    }

    [Fact]
    public async Task A_second_run_in_the_same_cycle_writes_nothing()
    {
        await using var h = await SweepHarness.StartAsync();
        h.Seed(200);
        var first = await h.Runner.RunAsync();
        h.ServiceNow.Counters.Reset();

        var second = await h.Runner.RunAsync();

        Assert.True(first.Raised > 0);
        Assert.Equal(0, second.Raised);
        Assert.Equal(first.Raised, second.AlreadyRaised);
        Assert.Equal(0, h.ServiceNow.Counters.Writes());
        Assert.Equal(first.Raised, h.Tasks().Count);
    }

    [Fact]
    public async Task A_run_cut_off_between_pages_resumes_there_and_raises_every_account_exactly_once()
    {
        await using var h = await SweepHarness.StartAsync();
        var seeded = h.Seed(1200);
        var expected = h.ExpectedInactive(seeded.UserIds);
        using var cut = new CancellationTokenSource();

        // Cut after the page on which the first reviews were written (accounts are gathered across pages before they are raised).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            h.Runner.RunAsync(new SweepRunRequest { OnProgress = p => { if (p.Raised > 0) cut.Cancel(); } }, cut.Token));
        var before = h.Tasks().Count;
        await h.RestartAsync();
        var resumed = await h.Runner.RunAsync();

        Assert.InRange(before, 1, expected.Count - 1);
        Assert.True(resumed.Resumed);
        var correlations = h.Tasks().Select(t => t["correlation_id"]).ToList();
        Assert.Equal(correlations.Count, correlations.Distinct().Count());
        Assert.Equal(expected.Order(), correlations.Select(c => ReviewCorrelation.UserOf(c)!).Order());
    }

    [Fact]
    public async Task A_run_that_dies_in_the_middle_of_a_page_then_reruns_raises_every_account_exactly_once()
    {
        await using var h = await SweepHarness.StartAsync(new Dictionary<string, string?> { ["ServiceNow:MaxRetryAttempts"] = "0" });
        var seeded = h.Seed(400);
        var expected = h.ExpectedInactive(seeded.UserIds);
        var created = 0;

        // ServiceNow starts failing once a handful of the first page's tasks exist: the run dies with the page half done.
        var sweep = h.Runner.RunAsync(new SweepRunRequest
        {
            OnRaised = _ =>
            {
                if (Interlocked.Increment(ref created) == 5)
                {
                    h.ServiceNow.Faults.FailNext(1000, 500);
                }
            },
        });
        await Assert.ThrowsAnyAsync<Exception>(() => sweep);
        Assert.InRange(h.Tasks().Count, 5, expected.Count - 1);
        h.ServiceNow.Faults.Reset();
        await h.RestartAsync();
        await h.Runner.RunAsync();

        var correlations = h.Tasks().Select(t => t["correlation_id"]).ToList();
        Assert.Equal(correlations.Count, correlations.Distinct().Count());
        Assert.Equal(expected.Order(), correlations.Select(c => ReviewCorrelation.UserOf(c)!).Order());
    }

    [Fact]
    public async Task Break_glass_members_never_appear_even_when_they_never_signed_in()
    {
        await using var h = await SweepHarness.StartAsync();
        var seeded = h.Seed(150);
        var breakGlassGroup = await h.Graph.Emulator.CreateGroupAsync("Break glass");
        var inactive = h.ExpectedInactive(seeded.UserIds);
        foreach (var id in inactive.Take(3))
        {
            await h.Graph.Emulator.AddGroupMemberAsync(breakGlassGroup, id);
        }

        await h.RestartAsync(new Dictionary<string, string?> { ["InactiveSweep:BreakGlassGroupIds:0"] = breakGlassGroup });
        var runner = h.Runner;
        var dryRaised = new List<string>();
        await runner.RunAsync(new SweepRunRequest { DryRun = true, OnRaised = a => dryRaised.Add(a.User.Id) });
        var report = await runner.RunAsync(new SweepRunRequest());

        Assert.Equal(3, report.Excluded[SweepVerdict.BreakGlass]);
        Assert.DoesNotContain(dryRaised, inactive.Take(3).Contains);
        Assert.DoesNotContain(h.Tasks(), t => inactive.Take(3).Contains(ReviewCorrelation.UserOf(t["correlation_id"])));
        Assert.Equal(inactive.Count - 3, h.Tasks().Count);
    }

    [Fact]
    public async Task Graph_throttling_is_waited_out_and_no_account_is_skipped()
    {
        await using var h = await SweepHarness.StartAsync();
        var seeded = h.Seed(1100);
        var expected = h.ExpectedInactive(seeded.UserIds);
        h.Graph.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, Count = 3, PathContains = "users" });
        h.Graph.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, Count = 4, InsideBatch = true });

        var report = await h.Runner.RunAsync();

        Assert.Equal(0, h.Graph.Faults.Pending);
        Assert.Equal(expected.Count, report.Raised);
        Assert.Equal(expected.Order(), h.Tasks().Select(t => ReviewCorrelation.UserOf(t["correlation_id"])!).Order());
    }

    [Fact]
    public async Task A_task_whose_account_signed_in_again_is_closed_with_a_note()
    {
        await using var h = await SweepHarness.StartAsync();
        var seeded = h.Seed(100);
        await h.Runner.RunAsync();
        var task = h.Tasks()[0];
        var userId = ReviewCorrelation.UserOf(task["correlation_id"])!;
        var signedIn = SweepHarness.Now.AddHours(-2);
        await h.Graph.Emulator.ChangeUserAsync(userId, new JsonObject
        {
            ["signInActivity"] = new JsonObject { ["lastSuccessfulSignInDateTime"] = signedIn.ToString("o"), ["lastSignInDateTime"] = signedIn.ToString("o") },
        });

        var report = await h.Runner.RunAsync();

        Assert.Equal(1, report.Closed);
        var closed = h.ServiceNow.Store.Get("sc_task", task["sys_id"])!;
        Assert.Equal("3", closed["state"]);
        Assert.Equal("false", closed["active"]);
        Assert.Contains("signed in again", closed["close_notes"], StringComparison.Ordinal);
        Assert.All(h.Tasks().Where(t => t["sys_id"] != task["sys_id"]), t => Assert.Equal("true", t["active"]));
    }

    [Fact]
    public async Task A_dry_run_reports_what_it_would_raise_and_writes_nothing()
    {
        await using var h = await SweepHarness.StartAsync();
        var seeded = h.Seed(300);
        var expected = h.ExpectedInactive(seeded.UserIds);
        var listed = new List<string>();

        var report = await h.Runner.RunAsync(new SweepRunRequest { DryRun = true, OnRaised = a => listed.Add(a.User.Id) });

        Assert.Equal(expected.Order(), listed.Order());
        Assert.Equal(expected.Count, report.Raised);
        Assert.Equal(0, h.ServiceNow.Counters.Writes());
        Assert.Empty(h.Tasks());
    }

    [Fact]
    public async Task Service_accounts_guests_and_disabled_accounts_are_left_out_as_configured()
    {
        await using var h = await SweepHarness.StartAsync(new Dictionary<string, string?>
        {
            ["InactiveSweep:ServiceAccountAttribute"] = "employeeType",
            ["InactiveSweep:ServiceAccountValue"] = "Service",
            ["InactiveSweep:Guests"] = "Exclude",
        });
        var seeded = h.Seed(300);
        var inactive = h.ExpectedInactive(seeded.UserIds);
        var service = inactive.Take(4).ToList();
        foreach (var id in service)
        {
            await h.Graph.Emulator.ChangeUserAsync(id, new JsonObject { ["employeeType"] = "Service" });
        }

        bool IsService(JsonObject d) => d["employeeType"]?.GetValue<string>() == "Service";
        var expected = h.ExpectedInactive(seeded.UserIds, alsoExclude: d => d["userType"]?.GetValue<string>() == "Guest" || IsService(d));
        // The seed has service accounts of its own besides the four made here.
        var services = h.ExpectedInactive(seeded.UserIds, alsoExclude: d => !IsService(d));
        var report = await h.Runner.RunAsync();

        Assert.InRange(services.Count, 5, 300);
        Assert.Equal(services.Count, report.Excluded[SweepVerdict.ServiceAccount]);
        Assert.True(report.Excluded.GetValueOrDefault(SweepVerdict.Guest) > 0);
        Assert.True(report.Excluded.GetValueOrDefault(SweepVerdict.Disabled) > 0);
        Assert.Equal(expected.Order(), h.Tasks().Select(t => ReviewCorrelation.UserOf(t["correlation_id"])!).Order());
    }

    [Fact]
    public async Task Guests_with_their_own_threshold_are_reviewed_sooner_than_members()
    {
        await using var h = await SweepHarness.StartAsync(new Dictionary<string, string?>
        {
            ["InactiveSweep:Guests"] = "OwnThreshold",
            ["InactiveSweep:GuestInactiveDays"] = "20",
        });
        var seeded = h.Seed(400);
        bool IsGuest(string id) => h.Graph.Emulator.GetUser(id)!["userType"]!.GetValue<string>() == "Guest";
        var expected = h.ExpectedInactive(seeded.UserIds.Where(id => !IsGuest(id)))
            .Concat(h.ExpectedInactive(seeded.UserIds.Where(IsGuest), inactiveDays: 20)).ToList();

        await h.Runner.RunAsync();

        Assert.Contains(expected, IsGuest);
        Assert.Equal(expected.Order(), h.Tasks().Select(t => ReviewCorrelation.UserOf(t["correlation_id"])!).Order());
    }

    [Fact]
    public async Task In_single_request_mode_one_request_lists_every_account_once_across_runs()
    {
        await using var h = await SweepHarness.StartAsync(new Dictionary<string, string?>
        {
            ["InactiveSweep:Mode"] = "SingleRequest",
            ["InactiveSweep:Table"] = "sc_req_item",
        });
        var seeded = h.Seed(700);
        var expected = h.ExpectedInactive(seeded.UserIds);

        await h.Runner.RunAsync();
        h.ServiceNow.Counters.Reset();
        await h.Runner.RunAsync();

        var request = Assert.Single(h.Tasks("sc_req_item"));
        Assert.Equal("entra-inactive:all:2026-12", request["correlation_id"]);
        Assert.Equal(expected.Order(), expected.Where(id => request["description"].Contains($"[{id}]", StringComparison.Ordinal)).Order());
        Assert.Equal(expected.Count, request["description"].Split('\n').Count(l => l.StartsWith("- ", StringComparison.Ordinal)));
        Assert.Equal(0, h.ServiceNow.Counters.Writes());
    }
}
