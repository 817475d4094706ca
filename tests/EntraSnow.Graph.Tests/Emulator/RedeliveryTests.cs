using System.Text.Json.Nodes;
using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Emulator;

/// <summary>Graph's at-least-once delivery, as the emulator plays it: refused notifications retried, acknowledged ones repeated.</summary>
public sealed class RedeliveryTests
{
    private static async Task SubscribeAsync(ConnectorHarness graph, WebhookReceiver receiver) =>
        await graph.Subscriptions.CreateAsync(new SubscriptionRequest
        {
            Resource = "/users",
            NotificationUrl = receiver.NotificationUrl,
            LifecycleNotificationUrl = receiver.LifecycleUrl,
            ClientState = "client-state-for-redelivery",
            ExpirationDateTime = DateTimeOffset.UtcNow.AddDays(2),
        });

    private static long SequenceNumber(JsonNode received) =>
        received["payload"]!["value"]!.AsArray().Single()!["resourceData"]!["sequenceNumber"]!.GetValue<long>();

    [Fact]
    public async Task A_notification_the_subscriber_refused_waits_and_arrives_when_Graph_retries()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[1];
        await SubscribeAsync(graph, receiver);
        receiver.NotificationStatus = 503;

        var refused = await graph.Emulator.ChangeUserAsync(userId, new JsonObject { ["jobTitle"] = "Refused once" });
        Assert.Equal(503, Assert.Single(refused).StatusCode);
        Assert.Equal(1, graph.Emulator.UndeliveredCount);

        // Still refused: it keeps waiting.
        Assert.Equal(503, Assert.Single(await graph.Emulator.RetryUndeliveredAsync()).StatusCode);
        Assert.Equal(1, graph.Emulator.UndeliveredCount);

        receiver.NotificationStatus = 202;
        Assert.Equal(202, Assert.Single(await graph.Emulator.RetryUndeliveredAsync()).StatusCode);
        Assert.Equal(0, graph.Emulator.UndeliveredCount);
        var item = (await receiver.NextAsync())["payload"]!["value"]![0]!;
        Assert.Equal($"Users/{userId}", item["resource"]!.GetValue<string>());
    }

    [Fact]
    public async Task Acknowledged_notifications_delivered_again_carry_their_original_sequence_numbers()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var userIds = graph.Server.Seed(new GraphSeedSpec { Users = 3, Groups = 0 }).UserIds;
        await SubscribeAsync(graph, receiver);
        var first = new List<long>();
        foreach (var userId in userIds)
        {
            await graph.Emulator.RenameUserAsync(userId, $"Renamed {userId}");
            first.Add(SequenceNumber(await receiver.NextAsync()));
        }

        var again = await graph.Emulator.DeliverAgainAsync(count: 3, seed: 7);

        Assert.All(again, d => Assert.Equal(202, d.StatusCode));
        var repeated = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            repeated.Add(SequenceNumber(await receiver.NextAsync()));
        }

        Assert.Equal(first.Order(), repeated.Order());
        Assert.Equal(0, graph.Emulator.UndeliveredCount);
    }
}
