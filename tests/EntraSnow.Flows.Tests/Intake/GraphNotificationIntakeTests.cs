using EntraSnow.Tests.Shared;
using EntraSnow.Flows.Intake;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EntraSnow.Flows.Tests.Intake;

public sealed class GraphNotificationIntakeTests : IDisposable
{
    private readonly IntakeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private Task<IntakeResult> AcceptSample(string name) =>
        _factory.Intake.AcceptAsync(NotificationParser.ParseCollection(Samples.GraphSampleBytes(name)), "corr-1", CancellationToken.None);

    [Fact]
    public async Task Updated_user_is_queued_to_user_changes_keyed_by_its_object_id()
    {
        var result = await AcceptSample("user-updated.json");

        Assert.Equal(1, result.Queued);
        var (queue, message) = Assert.Single(_factory.Sent);
        Assert.Equal(QueueNames.UserChanges, queue);
        Assert.Equal(MessageKinds.UserUpdated, message.Kind);
        Assert.Equal(Samples.UserId, message.SubjectId);
        Assert.Equal(message.SubjectId, message.SessionKey);
        Assert.Equal(Samples.TenantId, message.TenantId);
        Assert.Equal("corr-1", message.CorrelationId);
        Assert.Equal(0, message.Attempt);
        Assert.Equal(Samples.UserUpdatedAt, message.ChangedAt, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Permanently_deleted_user_is_queued_as_a_deletion()
    {
        await AcceptSample("user-deleted.json");

        var (queue, message) = Assert.Single(_factory.Sent);
        Assert.Equal(QueueNames.UserChanges, queue);
        Assert.Equal(MessageKinds.UserDeleted, message.Kind);
    }

    [Fact]
    public async Task Group_change_goes_to_group_changes()
    {
        await AcceptSample("group-updated.json");

        var (queue, message) = Assert.Single(_factory.Sent);
        Assert.Equal(QueueNames.GroupChanges, queue);
        Assert.Equal(MessageKinds.GroupUpdated, message.Kind);
    }

    [Theory]
    [InlineData("lifecycle-reauthorization.json")]
    [InlineData("lifecycle-reauthorization-observed.json")]
    public async Task Lifecycle_notification_goes_to_subscription_lifecycle_even_with_organizationId_and_no_resource(string sample)
    {
        await AcceptSample(sample);

        var (queue, message) = Assert.Single(_factory.Sent);
        Assert.Equal(QueueNames.SubscriptionLifecycle, queue);
        Assert.Equal(MessageKinds.LifecycleReauthorizationRequired, message.Kind);
        Assert.Equal(Samples.UserSubscriptionId, message.SubjectId);
        Assert.Equal(Samples.UserSubscriptionId, message.Property("subscriptionId"));
        Assert.False(string.IsNullOrEmpty(message.TenantId));
    }

    [Fact]
    public async Task Notification_with_a_foreign_client_state_is_counted_and_never_queued()
    {
        using var collector = new MetricCollector<long>(_factory.MeterFactory, IntakeMetrics.MeterName, "entrasnow.intake.client_state_rejected");
        var body = Samples.GraphSample("user-updated.json").Replace(Samples.ClientState, "not-the-secret", StringComparison.Ordinal);

        var result = await _factory.Intake.AcceptAsync(NotificationParser.ParseCollection(System.Text.Encoding.UTF8.GetBytes(body)), "c", CancellationToken.None);

        Assert.Equal(new IntakeResult(0, 1, 0), result);
        Assert.Empty(_factory.Sent);
        await _factory.Queue.DidNotReceiveWithAnyArgs().SendAsync(default!, default!, default);
        Assert.Equal(1, collector.LastMeasurement?.Value);
    }

    [Fact]
    public async Task Notification_without_a_client_state_is_dropped()
    {
        var items = new List<ChangeNotification> { new() { ChangeType = "updated", Resource = "Users/8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f" } };

        var result = await _factory.Intake.AcceptAsync(items, "c", CancellationToken.None);

        Assert.Equal(1, result.RejectedClientState);
        Assert.Empty(_factory.Sent);
    }

    [Fact]
    public async Task Previous_client_state_is_still_accepted_while_subscriptions_are_renewed()
    {
        using var rotating = new IntakeFactory(clientState: "the-new-client-state-value", previousClientState: Samples.ClientState);

        var result = await rotating.Intake.AcceptAsync(NotificationParser.ParseCollection(Samples.GraphSampleBytes("user-updated.json")), "c", CancellationToken.None);

        Assert.Equal(1, result.Queued);
    }

    [Fact]
    public async Task Unknown_resource_type_is_dropped_without_failing_the_rest()
    {
        var items = new List<ChangeNotification>
        {
            new() { ClientState = Samples.ClientState, ChangeType = "updated", Resource = "Devices/8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f", ResourceData = new() { ODataType = "#Microsoft.Graph.Device", Id = "8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f" } },
            new() { ClientState = Samples.ClientState, ChangeType = "updated", Resource = "Users/0f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f" },
        };

        var result = await _factory.Intake.AcceptAsync(items, "c", CancellationToken.None);

        Assert.Equal(new IntakeResult(1, 0, 1), result);
        Assert.Equal(QueueNames.UserChanges, Assert.Single(_factory.Sent).Queue);
    }

    [Fact]
    public async Task A_resource_id_that_is_not_an_object_id_is_dropped()
    {
        var items = new List<ChangeNotification> { new() { ClientState = Samples.ClientState, ChangeType = "updated", Resource = "Users/../../etc" } };

        var result = await _factory.Intake.AcceptAsync(items, "c", CancellationToken.None);

        Assert.Equal(1, result.Dropped);
        Assert.Empty(_factory.Sent);
    }

    [Fact]
    public async Task Graph_redelivering_the_same_notification_carries_the_same_dedupe_key()
    {
        await AcceptSample("user-updated.json");
        _factory.Clock.Advance(TimeSpan.FromMinutes(7));
        await AcceptSample("user-updated.json");

        Assert.Equal(2, _factory.Sent.Count);
        Assert.Equal(_factory.Sent[0].Message.MessageId, _factory.Sent[1].Message.MessageId);
    }

    [Fact]
    public async Task Webhook_and_Event_Grid_deliveries_of_one_change_share_a_dedupe_key()
    {
        await AcceptSample("user-updated.json");
        var cloudEvents = GraphCloudEvents.Parse(Samples.GraphSampleBytes("eventgrid-user-updated.json"));
        await _factory.Intake.AcceptCloudEventsAsync(cloudEvents, "c2", CancellationToken.None);

        Assert.Equal(2, _factory.Sent.Count);
        Assert.Equal(_factory.Sent[0].Message.MessageId, _factory.Sent[1].Message.MessageId);
        Assert.Equal(QueueNames.UserChanges, _factory.Sent[1].Queue);
    }

    [Fact]
    public async Task Different_changes_to_one_user_get_different_dedupe_keys()
    {
        var first = Samples.GraphSample("user-updated.json");
        var second = first.Replace(Samples.UserUpdatedSequenceNumber, "638686947091234999", StringComparison.Ordinal);
        await _factory.Intake.AcceptAsync(NotificationParser.ParseCollection(System.Text.Encoding.UTF8.GetBytes(first)), "c", CancellationToken.None);
        await _factory.Intake.AcceptAsync(NotificationParser.ParseCollection(System.Text.Encoding.UTF8.GetBytes(second)), "c", CancellationToken.None);

        Assert.NotEqual(_factory.Sent[0].Message.MessageId, _factory.Sent[1].Message.MessageId);
    }

    private async Task AcceptJsonAsync(string json) =>
        await _factory.Intake.AcceptAsync(NotificationParser.ParseCollection(System.Text.Encoding.UTF8.GetBytes(json)), "c", CancellationToken.None);

    private static string WithoutSequenceNumber(string json) =>
        json.Replace($"\"sequenceNumber\": {Samples.UserUpdatedSequenceNumber}", "\"sequenceNumber\": null", StringComparison.Ordinal);

    [Fact]
    public async Task Two_changes_to_one_user_without_id_or_sequence_number_are_both_queued()
    {
        var unkeyed = WithoutSequenceNumber(Samples.GraphSample("user-updated.json"));
        Assert.DoesNotContain(Samples.UserUpdatedSequenceNumber, unkeyed, StringComparison.Ordinal);

        // Same subscription, user, change type and even event time: nothing proves they are one notification.
        await AcceptJsonAsync(unkeyed);
        await AcceptJsonAsync(unkeyed);

        Assert.Equal(2, _factory.Sent.Count);
        Assert.NotEqual(_factory.Sent[0].Message.MessageId, _factory.Sent[1].Message.MessageId);
    }

    [Fact]
    public async Task A_notification_id_proves_a_repeat_and_tells_two_notifications_apart()
    {
        var unkeyed = WithoutSequenceNumber(Samples.GraphSample("user-updated.json"));
        string WithId(string id) => unkeyed.Replace("\"subscriptionId\"", $"\"id\": \"{id}\", \"subscriptionId\"", StringComparison.Ordinal);

        await AcceptJsonAsync(WithId("notification-1"));
        await AcceptJsonAsync(WithId("notification-1"));
        await AcceptJsonAsync(WithId("notification-2"));

        Assert.Equal(_factory.Sent[0].Message.MessageId, _factory.Sent[1].Message.MessageId);
        Assert.NotEqual(_factory.Sent[0].Message.MessageId, _factory.Sent[2].Message.MessageId);
    }

    [Fact]
    public async Task Unknown_cloud_event_type_is_dropped()
    {
        var events = new[] { new GraphCloudEvent("Microsoft.Storage.BlobCreated", null, "{}"u8.ToArray()) };

        var result = await _factory.Intake.AcceptCloudEventsAsync(events, "c", CancellationToken.None);

        Assert.Equal(1, result.Dropped);
        Assert.Empty(_factory.Sent);
    }

    [Fact]
    public async Task A_failed_queue_write_reaches_the_caller_so_it_answers_5xx()
    {
        _factory.Queue.SendAsync(Arg.Any<string>(), Arg.Any<IReadOnlyList<ChangeMessage>>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new IOException("disk full")));

        await Assert.ThrowsAsync<IOException>(() => AcceptSample("user-updated.json"));
    }
}
