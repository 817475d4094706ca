using System.Text.Json;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary>
/// <c>sync --dry-run</c> through the local host's command line against both emulators: what it reports, that it writes
/// nothing, and that the real <c>sync</c> then does exactly what it said.
/// </summary>
public sealed class SyncDryRunCommandTests : IAsyncLifetime
{
    private const int Users = 40;

    private CommandLineOverEmulators _cli = null!;
    private GraphSeedResult _seeded = null!;

    public async Task InitializeAsync()
    {
        _cli = await CommandLineOverEmulators.StartAsync();
        _seeded = _cli.Graph.Seed(new GraphSeedSpec { Users = Users, Groups = 3, RiskDetections = 0 });
    }

    public async Task DisposeAsync() => await _cli.DisposeAsync();

    /// <summary>Every Graph user already has a sys_user matched by user name, without an object id; the last UPN is held by two.</summary>
    private string SeedExistingRecords()
    {
        foreach (var id in _seeded.UserIds)
        {
            var (upn, mail) = _cli.NamesOf(id);
            _cli.ServiceNow.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = upn, ["email"] = mail ?? string.Empty, ["first_name"] = "Existing" });
        }

        var doubled = _seeded.UserIds[^1];
        _cli.ServiceNow.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = _cli.NamesOf(doubled).UserPrincipalName });
        return doubled;
    }

    private string GraphState() => string.Join("\n",
        _seeded.UserIds.Select(id => _cli.Graph.Emulator.GetUser(id)!.ToJsonString())
            .Concat(_seeded.GroupIds.Select(g => string.Join(",", _cli.Graph.Emulator.GroupMemberIds(g)))));

    private async Task<JsonDocument> DryRunJsonAsync()
    {
        var (exit, output) = await _cli.RunAsync("sync", "--dry-run", "--json");
        Assert.True(exit == 0, output);
        return JsonDocument.Parse(output);
    }

    private static Dictionary<(string Kind, string Id), string> Decisions(JsonDocument report) =>
        report.RootElement.GetProperty("objects").EnumerateArray()
            .ToDictionary(o => (o.GetProperty("kind").GetString()!, o.GetProperty("id").GetString()!), o => o.GetProperty("action").GetString()!);

    [Fact]
    public async Task Dry_run_over_an_instance_with_its_users_reports_adoptions_writes_nothing_and_the_real_sync_then_does_just_that()
    {
        var doubled = SeedExistingRecords();
        await _cli.ServeAsync();
        var graphBefore = GraphState();
        var recordsBefore = _cli.ServiceNow.Store.Count("sys_user");
        _cli.ServiceNow.Counters.Reset();

        using var report = await DryRunJsonAsync();

        Assert.Equal(0, _cli.ServiceNow.Counters.Writes());
        Assert.Equal(graphBefore, GraphState());
        Assert.Equal(recordsBefore, _cli.ServiceNow.Store.Count("sys_user"));
        var users = report.RootElement.GetProperty("totals").GetProperty("users");
        Assert.Equal(Users - 1, users.GetProperty("adopted").GetInt32());
        Assert.Equal(0, users.GetProperty("created").GetInt32());
        Assert.Equal(1, users.GetProperty("conflicts").GetInt32());
        var objects = report.RootElement.GetProperty("objects").EnumerateArray().ToList();
        var conflict = Assert.Single(objects, o => o.GetProperty("action").GetString() == "conflict");
        Assert.Equal(doubled, conflict.GetProperty("id").GetString());
        Assert.Contains("2 sys_user records have user_name", conflict.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var first = _seeded.UserIds[0];
        var adopted = Assert.Single(objects, o => o.GetProperty("id").GetString() == first);
        var changes = adopted.GetProperty("changes").EnumerateArray().ToDictionary(c => c.GetProperty("field").GetString()!, c => (Old: c.GetProperty("old").GetString(), New: c.GetProperty("new").GetString()));
        Assert.Equal(("Existing", _cli.Graph.Emulator.GetUser(first)!["givenName"]!.GetValue<string>()), changes["first_name"]);
        Assert.Equal((string.Empty, first), changes["u_entra_object_id"]);
        Assert.DoesNotContain("user_name", changes.Keys);

        var sync = await _cli.Host!.Services.GetRequiredService<FullSyncRunner>().RunAsync();
        await _cli.DrainedAsync();
        var entries = await _cli.Host.Services.GetRequiredService<IProvisioningLog>().GetByCorrelationAsync(sync.RunId);

        Assert.Equal(SyncPhase.Completed, sync.Phase);
        var real = ProvisioningSummary.Decisive(entries).ToDictionary(e => (e.ObjectKind, e.SubjectId), e => ProvisioningLogEntry.ActionName(e.Action));
        Assert.Equal(Decisions(report).OrderBy(d => d.Key), real.OrderBy(d => d.Key));
        Assert.Equal(0, _cli.ServiceNow.Counters.Served("POST", "sys_user"));
        Assert.Equal(first, _cli.ServiceNow.Store.Query("sys_user", $"user_name={_cli.NamesOf(first).UserPrincipalName}").Single()["u_entra_object_id"]);

        _cli.ServiceNow.Counters.Reset();
        using var again = await DryRunJsonAsync();

        Assert.Equal(0, _cli.ServiceNow.Counters.Writes());
        Assert.Equal(0, again.RootElement.GetProperty("writesHeldBack").GetInt32());
        Assert.All(again.RootElement.GetProperty("objects").EnumerateArray().Where(o => o.GetProperty("id").GetString() != doubled),
            o => Assert.Equal("unchanged", o.GetProperty("action").GetString()));
        Assert.Equal("conflict", Decisions(again)[("user", doubled)]);
    }

    [Fact]
    public async Task Dry_run_table_shows_a_field_drift_old_to_new_and_the_csv_file_has_a_row_for_it()
    {
        await _cli.ServeAsync();
        var sync = await _cli.Host!.Services.GetRequiredService<FullSyncRunner>().RunAsync();
        await _cli.DrainedAsync();
        Assert.Equal(SyncPhase.Completed, sync.Phase);
        var id = _seeded.UserIds[3];
        var record = _cli.ServiceNow.Store.Query("sys_user", $"u_entra_object_id={id}").Single();
        _cli.ServiceNow.Store.Update("sys_user", record["sys_id"], new Dictionary<string, string> { ["title"] = "Changed by hand" });
        var jobTitle = _cli.Graph.Emulator.GetUser(id)!["jobTitle"]!.GetValue<string>();
        var csv = Path.Combine(Path.GetTempPath(), $"dry-run-{Guid.NewGuid():N}.csv");
        _cli.ServiceNow.Counters.Reset();

        try
        {
            var (exit, output) = await _cli.RunAsync("sync", "--dry-run");
            var (csvExit, csvOutput) = await _cli.RunAsync("sync", "--dry-run", "--csv", csv);

            Assert.Equal(0, exit);
            Assert.Contains($"title: 'Changed by hand' → '{jobTitle}'", output, StringComparison.Ordinal);
            Assert.Contains("updated", output, StringComparison.Ordinal);
            Assert.Contains("users  would be created 0, adopted 0, updated 1, deactivated 0; unchanged " + (Users - 1), output, StringComparison.Ordinal);
            Assert.Contains("Dry run: nothing was written (1 write(s) held back).", output, StringComparison.Ordinal);
            Assert.Equal(0, csvExit);
            Assert.Contains($"to {csv}", csvOutput, StringComparison.Ordinal);
            var lines = await File.ReadAllLinesAsync(csv);
            Assert.Equal("kind,id,name,action,sys_id,field,old,new,reason", lines[0]);
            Assert.Contains(lines, l => l.StartsWith($"user,{id},", StringComparison.Ordinal) && l.Contains($",updated,{record["sys_id"]},title,Changed by hand,{jobTitle},", StringComparison.Ordinal));
            Assert.Equal(0, _cli.ServiceNow.Counters.Writes());
            Assert.Equal("Changed by hand", _cli.ServiceNow.Store.Get("sys_user", record["sys_id"])!["title"]);
        }
        finally
        {
            File.Delete(csv);
        }
    }
}
