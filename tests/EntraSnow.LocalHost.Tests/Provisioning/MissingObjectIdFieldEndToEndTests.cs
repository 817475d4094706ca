using EntraSnow.Flows.FullSync;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Provisioning;

/// <summary>
/// An instance without EntraSnow's Entra object id field, through the whole local host against both emulators: a real
/// instance would drop the field on every insert and ignore it in every query, so each sync would make duplicates.
/// Provisioning refuses instead, saying what to install, and writes nothing.
/// </summary>
public sealed class MissingObjectIdFieldEndToEndTests
{
    [Fact]
    public async Task A_sync_into_an_instance_without_the_object_id_field_writes_nothing_and_says_what_is_missing()
    {
        await using var host = await LocalHostHarness.StartEmptyAsync(new Dictionary<string, string?>
        {
            ["Sandbox:ServiceNow:CustomFields:sys_user"] = "",
        });
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        var counters = host.Services.GetRequiredService<ServiceNowEmulatorCounters>();
        graph.Seed(new GraphSeedSpec { Users = 20, Groups = 0, RiskDetections = 0 });
        var usersBefore = serviceNow.Count("sys_user");
        counters.Reset();

        var sync = await host.Services.GetRequiredService<FullSyncRunner>().RunAsync();

        Assert.Equal(0, sync.Summary.Users.Created + sync.Summary.Users.Adopted + sync.Summary.Users.Updated);
        Assert.Equal(usersBefore, serviceNow.Count("sys_user"));
        Assert.Equal(0, counters.Writes("sys_user"));
        var letters = await host.Queues.ListDeadLettersAsync(null, 100);
        Assert.NotEmpty(letters);
        Assert.All(letters, l => Assert.StartsWith("sys_user has no field u_entra_object_id (sys_dictionary)", l.Description ?? l.Reason, StringComparison.Ordinal));
    }
}
