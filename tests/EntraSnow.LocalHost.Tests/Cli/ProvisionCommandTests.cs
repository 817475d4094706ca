using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary><c>provision &lt;upn|object-id&gt;</c>: one user through provisioning now, every step printed.</summary>
public sealed class ProvisionCommandTests : IAsyncLifetime
{
    private CommandLineOverEmulators _cli = null!;
    private GraphSeedResult _seeded = null!;

    public async Task InitializeAsync()
    {
        _cli = await CommandLineOverEmulators.StartAsync();
        _seeded = _cli.Graph.Seed(new GraphSeedSpec { Users = 5, Groups = 0, RiskDetections = 0 });
    }

    public async Task DisposeAsync() => await _cli.DisposeAsync();

    [Fact]
    public async Task Provision_of_a_user_principal_name_prints_every_step_and_creates_the_user()
    {
        var id = _seeded.UserIds[^1];
        var (upn, _) = _cli.NamesOf(id);

        var (exit, output) = await _cli.RunAsync("provision", upn);

        Assert.Equal(0, exit);
        var steps = output.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 3 && char.IsDigit(l[0])).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ToList();
        Assert.Equal(["user", "scope", "mapping", "references", "match", "write"], steps);
        Assert.Contains($"{upn} ({id}), enabled", output, StringComparison.Ordinal);
        Assert.Contains($"user_name = '{upn}'", output, StringComparison.Ordinal);
        Assert.Contains("Result: created (sys_user ", output, StringComparison.Ordinal);
        var record = Assert.Single(_cli.ServiceNow.Store.Query("sys_user", $"u_entra_object_id={id}"));
        Assert.Contains($"created sys_user {record["sys_id"]}", output, StringComparison.Ordinal);
        Assert.Equal(1, _cli.ServiceNow.Counters.Served("POST", "sys_user"));
    }

    [Fact]
    public async Task Provision_of_an_object_id_adopts_the_existing_record_with_that_user_name_and_shows_the_drift_next_time()
    {
        var id = _seeded.UserIds[0];
        var (upn, _) = _cli.NamesOf(id);
        var existing = _cli.ServiceNow.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = upn, ["first_name"] = "Existing" });

        var (exit, output) = await _cli.RunAsync("provision", id);
        _cli.ServiceNow.Store.Update("sys_user", existing["sys_id"], new Dictionary<string, string> { ["title"] = "Changed by hand" });
        var (againExit, again) = await _cli.RunAsync("provision", id);

        Assert.Equal(0, exit);
        Assert.Contains($"adopted: the existing sys_user with user_name '{upn}' had no Entra object id", output, StringComparison.Ordinal);
        Assert.Contains($"Result: adopted (sys_user {existing["sys_id"]})", output, StringComparison.Ordinal);
        Assert.Equal(id, _cli.ServiceNow.Store.Get("sys_user", existing["sys_id"])!["u_entra_object_id"]);
        Assert.Equal(0, _cli.ServiceNow.Counters.Served("POST", "sys_user"));
        Assert.Equal(0, againExit);
        Assert.Contains($"sys_user {existing["sys_id"]} carries the object id", again, StringComparison.Ordinal);
        Assert.Contains("title 'Changed by hand' → '", again, StringComparison.Ordinal);
        Assert.Contains("Result: updated", again, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provision_of_an_unknown_user_says_so_exits_non_zero_and_writes_nothing()
    {
        var (exit, output) = await _cli.RunAsync("provision", "nobody@contoso.example");

        Assert.Equal(1, exit);
        Assert.Contains("error: Entra ID has no user 'nobody@contoso.example'", output, StringComparison.Ordinal);
        Assert.Equal(0, _cli.ServiceNow.Counters.Writes());
    }

    [Fact]
    public async Task Provision_of_a_user_name_held_by_two_records_is_a_conflict_with_nothing_written()
    {
        var id = _seeded.UserIds[1];
        var (upn, _) = _cli.NamesOf(id);
        _cli.ServiceNow.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = upn });
        _cli.ServiceNow.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = upn });
        _cli.ServiceNow.Counters.Reset();

        var (exit, output) = await _cli.RunAsync("provision", upn);

        Assert.Equal(1, exit);
        Assert.Contains($"2 sys_user records have user_name '{upn}'", output, StringComparison.Ordinal);
        Assert.Contains("Result: conflict", output, StringComparison.Ordinal);
        Assert.Equal(0, _cli.ServiceNow.Counters.Writes("sys_user"));
    }
}
