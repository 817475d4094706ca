using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Provisioning;

/// <summary>
/// An instance without the Entra object id field on sys_user: the sandbox's first sync refuses every user with a reason
/// naming the field, and not one sys_user is written (a real instance would drop the field and create duplicates for ever).
/// </summary>
public sealed class ObjectIdFieldEndToEndTests
{
    [Fact]
    public async Task Without_the_object_id_field_on_sys_user_the_first_sync_writes_no_user_and_dead_letters_them_with_the_reason()
    {
        await using var host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:Seed:Users"] = "3",
            ["Sandbox:Seed:Groups"] = "0",
            ["Sandbox:ServiceNow:CustomFields:sys_user"] = "",
            ["LocalHost:RunTimers"] = "false",
        });
        var counters = host.Services.GetRequiredService<ServiceNowEmulatorCounters>();

        await Eventually.AssertAsync(async () => (await host.Queues.ListDeadLettersAsync("user-changes")).Count == 3, "the three users dead-lettered", TimeSpan.FromSeconds(60));

        var reasons = (await host.Queues.ListDeadLettersAsync("user-changes")).Select(d => d.Description ?? d.Reason).ToList();
        Assert.All(reasons, r => Assert.StartsWith("sys_user has no field u_entra_object_id (sys_dictionary)", r));
        Assert.Equal(0, counters.Writes("sys_user"));
        Assert.Equal(0, host.Services.GetRequiredService<ServiceNowEmulatorStore>().Count("sys_user"));
    }
}
