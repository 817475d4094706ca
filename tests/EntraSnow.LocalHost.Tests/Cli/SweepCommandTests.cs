using System.Globalization;
using System.Text.Json;
using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary><c>sweep</c> and the doctor's sign-in activity check, against emulators the test owns so their counters can be read.</summary>
public sealed class SweepCommandTests : IAsyncLifetime
{
    private readonly string _dataPath = LocalHostHarness.NewDataPath();
    private GraphEmulatorServer _graph = null!;
    private ServiceNowEmulatorServer _serviceNow = null!;

    public async Task InitializeAsync()
    {
        _serviceNow = await ServiceNowEmulatorServer.StartAsync(seed: true);
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        await _serviceNow.DisposeAsync();
        LocalHostHarness.TryDelete(_dataPath);
    }

    private async Task<GraphSeedResult> StartGraphAsync(int users, bool signInActivity = true)
    {
        _graph = await GraphEmulatorServer.StartAsync(o => o.SignInActivityAvailable = signInActivity);
        return _graph.Seed(new GraphSeedSpec { Users = users, Groups = 3, NeverSignedInPercent = 10 });
    }

    private async Task<(int Exit, string Output)> Run(params string[] args)
    {
        var settings = _graph.ConnectorSettings.Concat(_serviceNow.ConnectorSettings)
            .Select(s => $"--{s.Key}={s.Value}")
            .Concat([
                $"--LocalHost:DataPath={_dataPath}",
                $"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}",
                "--Graph:ClientState=a-client-state-of-enough-length",
                "--InactiveSweep:AssignmentGroup=Identity and Access Management",
                "--Logging:LogLevel:Default=Warning",
            ]);
        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync([.. args, .. settings], output);
        return (exit, output.ToString());
    }

    private int InactiveIn(GraphSeedResult seeded)
    {
        var now = DateTimeOffset.UtcNow;
        return seeded.UserIds.Select(id => _graph.Emulator.GetUser(id)!).Count(doc =>
            doc["accountEnabled"]!.GetValue<bool>()
            && (doc["signInActivity"]?["lastSuccessfulSignInDateTime"]?.GetValue<string>() is { } last
                ? DateTimeOffset.Parse(last, CultureInfo.InvariantCulture) <= now.AddDays(-90)
                : DateTimeOffset.Parse(doc["createdDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture) <= now.AddDays(-30)));
    }

    [Fact]
    public async Task Sweep_dry_run_json_lists_what_would_be_raised_and_the_emulator_saw_no_write()
    {
        var seeded = await StartGraphAsync(120);
        var expected = InactiveIn(seeded);

        var (exit, output) = await Run("sweep", "--dry-run", "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("dryRun").GetBoolean());
        Assert.Equal(expected, json.RootElement.GetProperty("accounts").GetArrayLength());
        Assert.Equal(expected, json.RootElement.GetProperty("totals").GetProperty("raised").GetInt32());
        Assert.All(json.RootElement.GetProperty("accounts").EnumerateArray(), a => Assert.True(a.GetProperty("groups").GetInt32() >= 0));
        Assert.Equal(0, _serviceNow.Counters.Writes());
        Assert.True(_serviceNow.Counters.Reads() > 0);
    }

    [Fact]
    public async Task Sweep_dry_run_prints_a_table_and_totals()
    {
        var seeded = await StartGraphAsync(60);
        var expected = InactiveIn(seeded);

        var (exit, output) = await Run("sweep", "--dry-run");

        Assert.Equal(0, exit);
        Assert.Contains("last sign-in", output, StringComparison.Ordinal);
        Assert.Contains($"Would raise {expected} review(s) for cycle", output, StringComparison.Ordinal);
        Assert.Contains("Nothing was written.", output, StringComparison.Ordinal);
        Assert.Equal(0, _serviceNow.Counters.Writes());
    }

    [Fact]
    public async Task Sweep_raises_the_reviews_and_a_second_sweep_raises_none()
    {
        var seeded = await StartGraphAsync(80);
        var expected = InactiveIn(seeded);

        var (exit, output) = await Run("sweep");
        var (_, again) = await Run("sweep");

        Assert.Equal(0, exit);
        Assert.Contains($"Raised {expected} review(s)", output, StringComparison.Ordinal);
        Assert.Contains($"Raised 0 review(s) for cycle {DateTimeOffset.UtcNow:yyyy-MM}; {expected} already raised", again, StringComparison.Ordinal);
        Assert.Equal(expected, _serviceNow.Store.Query("sc_task", "correlation_idSTARTSWITHentra-inactive:").Count);
    }

    [Fact]
    public async Task Sweep_with_disabling_on_disables_the_account_whose_review_was_approved_and_closes_the_task()
    {
        await StartGraphAsync(80);
        string[] disabling = ["--InactiveSweep:DisableAccounts=true"];
        await Run(["sweep", .. disabling]);
        var task = _serviceNow.Store.Query("sc_task", "correlation_idSTARTSWITHentra-inactive:")[0];
        var userId = task["correlation_id"].Split(':')[1];
        _serviceNow.Store.Update("sc_task", task["sys_id"], new Dictionary<string, string> { ["approval"] = "approved" });

        var (dryExit, dry) = await Run(["sweep", "--dry-run", .. disabling]);
        var enabledAfterDryRun = _graph.Emulator.GetUser(userId)!["accountEnabled"]!.GetValue<bool>();
        var (exit, output) = await Run(["sweep", .. disabling]);

        Assert.Equal(0, dryExit);
        Assert.Contains("1 account(s) would be disabled after review", dry, StringComparison.Ordinal);
        Assert.True(enabledAfterDryRun);
        Assert.Equal(0, exit);
        Assert.Contains("1 account(s) disabled after review", output, StringComparison.Ordinal);
        Assert.False(_graph.Emulator.GetUser(userId)!["accountEnabled"]!.GetValue<bool>());
        Assert.Equal("false", _serviceNow.Store.Get("sc_task", task["sys_id"])!["active"]);
        Assert.Contains(_serviceNow.Store.Journal("sc_task", task["sys_id"]), n => n.Contains("EntraSnow disabled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sweep_with_disabling_on_acts_on_a_review_approved_and_closed_in_one_step()
    {
        await StartGraphAsync(80);
        string[] disabling = ["--InactiveSweep:DisableAccounts=true"];
        await Run(["sweep", .. disabling]);
        var task = _serviceNow.Store.Query("sc_task", "correlation_idSTARTSWITHentra-inactive:")[0];
        var userId = task["correlation_id"].Split(':')[1];
        _serviceNow.Store.Update("sc_task", task["sys_id"], new Dictionary<string, string> { ["approval"] = "approved", ["state"] = "3" });

        var (exit, output) = await Run(["sweep", .. disabling]);
        var (againExit, again) = await Run(["sweep", .. disabling]);

        Assert.Equal(0, exit);
        Assert.Contains("1 account(s) disabled after review", output, StringComparison.Ordinal);
        Assert.False(_graph.Emulator.GetUser(userId)!["accountEnabled"]!.GetValue<bool>());
        Assert.Contains("EntraSnow disabled", _serviceNow.Store.Get("sc_task", task["sys_id"])!["close_notes"], StringComparison.Ordinal);
        Assert.Equal(0, againExit);
        Assert.Contains("; 0 account(s) disabled after review", again, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_grace_period_without_disabling_stops_the_host_at_start_up()
    {
        await StartGraphAsync(5);

        // The message naming both settings goes to standard error (DisableAfterReviewTests reads it).
        var (exit, _) = await Run("sweep", "--InactiveSweep:GraceDays=14");

        Assert.Equal(3, exit);
        Assert.Equal(0, _serviceNow.Counters.Writes());
        Assert.Equal(0, _serviceNow.Counters.Reads());
    }

    [Fact]
    public async Task Doctor_says_when_sign_in_activity_is_unavailable()
    {
        await StartGraphAsync(5, signInActivity: false);

        var (exit, output) = await Run("doctor");

        Assert.Equal(1, exit);
        Assert.Contains("FAIL  Graph: sign-in activity for the inactive sweep", output, StringComparison.Ordinal);
        Assert.Contains("no Entra ID P1 licence", output, StringComparison.Ordinal);
        Assert.Contains("AuditLog.Read.All", output, StringComparison.Ordinal);
    }
}
