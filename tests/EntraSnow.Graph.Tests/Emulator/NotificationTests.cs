using System.Text.Json.Nodes;
using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Emulator;

public sealed class NotificationTests
{
    private const string ClientState = "client-state-for-notifications";

    private static async Task<GraphSubscription> SubscribeAsync(ConnectorHarness graph, WebhookReceiver receiver, string resource) =>
        await graph.Subscriptions.CreateAsync(new SubscriptionRequest
        {
            Resource = resource,
            NotificationUrl = receiver.NotificationUrl,
            LifecycleNotificationUrl = receiver.LifecycleUrl,
            ClientState = ClientState,
            ExpirationDateTime = DateTimeOffset.UtcNow.AddDays(2),
        });

    [Fact]
    public async Task Changing_a_user_posts_a_graph_shaped_notification_with_the_client_state()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 3, Groups = 0 }).UserIds[2];
        var subscription = await SubscribeAsync(graph, receiver, "/users");

        var deliveries = await graph.Emulator.DisableUserAsync(userId);

        Assert.Equal(202, Assert.Single(deliveries).StatusCode);
        var received = await receiver.NextAsync();
        Assert.Equal("notifications", received["endpoint"]!.GetValue<string>());
        var item = received["payload"]!["value"]!.AsArray().Single()!;
        Assert.Equal("updated", item["changeType"]!.GetValue<string>());
        Assert.Equal(ClientState, item["clientState"]!.GetValue<string>());
        Assert.Equal($"Users/{userId}", item["resource"]!.GetValue<string>());
        Assert.Equal(subscription.Id, item["subscriptionId"]!.GetValue<string>());
        Assert.Equal(graph.Emulator.Options.TenantId, item["tenantId"]!.GetValue<string>());
        var data = item["resourceData"]!;
        Assert.Equal("#Microsoft.Graph.User", data["@odata.type"]!.GetValue<string>());
        Assert.Equal(userId, data["id"]!.GetValue<string>());
        Assert.Equal(graph.Emulator.Options.TenantId, data["organizationId"]!.GetValue<string>());
        Assert.False(graph.Emulator.GetUser(userId)!["accountEnabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Sequence_numbers_keep_growing_across_a_restart_of_the_emulator()
    {
        var path = Path.Combine(Path.GetTempPath(), $"graph-emulator-{Guid.NewGuid():N}.db");
        try
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            long before;
            string userId;
            await using (var first = await ConnectorHarness.StartAsync(o => o.DatabasePath = path))
            {
                userId = first.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[0];
                await SubscribeAsync(first, receiver, "/users");
                await first.Emulator.RenameUserAsync(userId, "Before the restart");
                before = SequenceNumber(await receiver.NextAsync());
            }

            await using var second = await ConnectorHarness.StartAsync(o => o.DatabasePath = path);
            await second.Emulator.RenameUserAsync(userId, "After the restart");
            var after = SequenceNumber(await receiver.NextAsync());

            Assert.True(after > before, $"sequence {after} after the restart, {before} before");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }
        }
    }

    private static long SequenceNumber(JsonNode received) =>
        received["payload"]!["value"]!.AsArray().Single()!["resourceData"]!["sequenceNumber"]!.GetValue<long>();

    [Fact]
    public async Task A_permanent_delete_is_notified_as_deleted_and_group_subscribers_hear_nothing()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var users = await WebhookReceiver.StartAsync();
        await using var groups = await WebhookReceiver.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 3, Groups = 0 }).UserIds[0];
        await SubscribeAsync(graph, users, "/users");
        await SubscribeAsync(graph, groups, "/groups");

        var deliveries = await graph.Emulator.HardDeleteUserAsync(userId);

        Assert.Single(deliveries);
        var item = (await users.NextAsync())["payload"]!["value"]![0]!;
        Assert.Equal("deleted", item["changeType"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_change_through_the_api_is_notified_too()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 3, Groups = 1, GroupsPerUser = 0 });
        await SubscribeAsync(graph, receiver, "/groups");

        await graph.Directory.AddGroupMemberAsync(seeded.GroupIds[0], seeded.UserIds[0]);

        var item = (await receiver.NextAsync())["payload"]!["value"]![0]!;
        Assert.Equal($"Groups/{seeded.GroupIds[0]}", item["resource"]!.GetValue<string>());
        Assert.Equal("#Microsoft.Graph.Group", item["resourceData"]!["@odata.type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Lifecycle_notifications_go_to_the_lifecycle_url_and_removal_deletes_the_subscription()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await SubscribeAsync(graph, receiver, "/users");

        await graph.Emulator.SendLifecycleNotificationAsync(subscription.Id, "subscriptionRemoved");

        var received = await receiver.NextAsync();
        Assert.Equal("lifecycle", received["endpoint"]!.GetValue<string>());
        var item = received["payload"]!["value"]![0]!;
        Assert.Equal("subscriptionRemoved", item["lifecycleEvent"]!.GetValue<string>());
        Assert.Equal(ClientState, item["clientState"]!.GetValue<string>());
        Assert.Empty(await graph.Subscriptions.ListAsync());
    }

    [Fact]
    public async Task Listing_subscriptions_never_shows_the_client_state()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await SubscribeAsync(graph, receiver, "/users");

        Assert.DoesNotContain(graph.Emulator.Subscriptions, s => s.ToJsonString().Contains(ClientState, StringComparison.Ordinal));
        using var http = new HttpClient();
        var admin = await http.GetStringAsync(new Uri(graph.Server.Root, "admin/deliveries"));
        Assert.DoesNotContain(ClientState, admin, StringComparison.Ordinal);
    }
}
