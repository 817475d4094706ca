using System.Text.Json.Nodes;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.EndToEnd;

/// <summary>
/// The whole loop in sandbox mode, over real HTTP inside one local host: the subscription manager subscribes, the Graph
/// emulator validates the local host's endpoint, a change in the emulator is pushed as a notification, queued, consumed,
/// and lands in the ServiceNow emulator.
/// </summary>
public sealed class NotificationLoopTests
{
    private static Dictionary<string, string?> Sandbox(bool consumers) => new()
    {
        ["LocalHost:RunConsumers"] = consumers ? "true" : "false",
        // Jobs are run by the test, when it chooses.
        ["LocalHost:RunTimers"] = "false",
        ["Sandbox:Seed:Users"] = "0",
        ["Sandbox:Seed:InitialSync"] = "false",
    };

    private static GraphEmulator Graph(LocalHostHarness host) => host.Services.GetRequiredService<GraphEmulator>();

    private static Task SubscribeAsync(LocalHostHarness host) =>
        host.Services.GetServices<IScheduledJob>().Single(j => j.Name == JobNames.SubscriptionUpkeep).RunAsync(CancellationToken.None);

    [Fact]
    public async Task Subscribing_validates_the_local_host_and_a_changed_user_is_queued()
    {
        await using var host = await LocalHostHarness.StartAsync(Sandbox(consumers: false));
        var graph = Graph(host);

        await SubscribeAsync(host);
        Assert.Contains(graph.Subscriptions, s => s["resource"]?.GetValue<string>() == "/users");
        Assert.All(graph.Subscriptions, s => Assert.Equal($"{host.BaseUrl}/api/graph/notifications", s["notificationUrl"]?.GetValue<string>()));

        var userId = await graph.CreateUserAsync("Ada Lovelace", "ada@contoso.example");
        var deliveries = await graph.ChangeUserAsync(userId, new JsonObject { ["jobTitle"] = "Principal Engineer" });

        Assert.Contains(deliveries, d => d.StatusCode == 202);
        var queued = await host.Queues.ReceiveAsync(QueueNames.UserChanges);
        Assert.NotNull(queued);
        Assert.Equal(userId, queued.Message.SubjectId);
        Assert.Equal(MessageKinds.UserUpdated, queued.Message.Kind);
    }

    [Fact]
    public async Task A_user_disabled_in_Entra_is_deactivated_in_ServiceNow_through_the_notification_path()
    {
        await using var host = await LocalHostHarness.StartAsync(Sandbox(consumers: true));
        var graph = Graph(host);
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        await SubscribeAsync(host);
        var userId = await graph.CreateUserAsync("Grace Hopper", "grace@contoso.example");

        // A change notification provisions the user…
        await graph.ChangeUserAsync(userId, new JsonObject { ["jobTitle"] = "Staff Engineer" });
        await Eventually.AssertAsync(() => SysUser(serviceNow, userId) is { } u && u["title"] == "Staff Engineer", "the user provisioned into sys_user");

        // …and disabling the account in Entra ID deactivates and locks the ServiceNow user, never deleting it.
        await graph.DisableUserAsync(userId);
        await Eventually.AssertAsync(() => SysUser(serviceNow, userId) is { } u && u["active"] == "false", "the sys_user deactivated");

        var record = SysUser(serviceNow, userId)!;
        Assert.Equal("true", record["locked_out"]);
        Assert.Single(serviceNow.Query("sys_user", $"u_entra_object_id={userId}"));
    }

    private static IReadOnlyDictionary<string, string>? SysUser(ServiceNowEmulatorStore store, string userId) =>
        store.Query("sys_user", $"u_entra_object_id={userId}").SingleOrDefault();
}
