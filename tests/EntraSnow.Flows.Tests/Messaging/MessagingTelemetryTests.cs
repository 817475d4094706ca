using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.Messaging;

/// <summary>
/// What the Azure Monitor workbook and alerts read from a delivery: how long after the change it completed, and the start
/// of a connector's pause. Each test uses a queue name of its own, so parallel tests' measurements never mix.
/// </summary>
public sealed class MessagingTelemetryTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));
    private readonly IMessageHandler _handler = Substitute.For<IMessageHandler>();
    private readonly string _queue = $"telemetry-{Guid.NewGuid():N}";
    private readonly MetricRecorder _metrics = new(MessagingTelemetry.Name);

    public MessagingTelemetryTests() => _handler.Queue.Returns(_queue);

    public void Dispose() => _metrics.Dispose();

    private MessageProcessor Processor() =>
        new(Options.Create(new MessagingOptions { InlineRetries = 0, InlineRetryDelay = TimeSpan.Zero }), _clock, NullLogger<MessageProcessor>.Instance);

    private ChangeMessage Message(string subject, TimeSpan changedAgo) => new()
    {
        MessageId = $"m-{subject}",
        SessionKey = subject,
        Kind = MessageKinds.UserUpdated,
        TenantId = "t",
        SubjectId = subject,
        ChangedAt = _clock.GetUtcNow() - changedAgo,
        CorrelationId = "c",
    };

    [Fact]
    public async Task A_completed_delivery_records_the_seconds_from_the_change_to_the_write_by_queue_and_kind()
    {
        await Processor().ProcessAsync(_handler, Message("u1", TimeSpan.FromSeconds(90)), CancellationToken.None);

        var latency = Assert.Single(_metrics.Of(MessagingTelemetry.ChangeLatencyMetric, (MessagingTelemetry.QueueTag, _queue)));
        Assert.Equal(90, latency.Value);
        Assert.Equal(MessageKinds.UserUpdated, latency.Tags[MessagingTelemetry.KindTag]);
        var outcome = Assert.Single(_metrics.Of(MessagingTelemetry.ProcessedMetric, (MessagingTelemetry.QueueTag, _queue)));
        Assert.Equal(MessagingTelemetry.CompletedOutcome, outcome.Tags[MessagingTelemetry.OutcomeTag]);
    }

    [Fact]
    public async Task A_delivery_that_did_not_complete_records_no_latency()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new TransientFailureException("ServiceNow answered 503")));

        await Processor().ProcessAsync(_handler, Message("u1", TimeSpan.FromSeconds(5)), CancellationToken.None);

        Assert.Empty(_metrics.Of(MessagingTelemetry.ChangeLatencyMetric, (MessagingTelemetry.QueueTag, _queue)));
        var outcome = Assert.Single(_metrics.Of(MessagingTelemetry.ProcessedMetric, (MessagingTelemetry.QueueTag, _queue)));
        Assert.Equal(MessagingTelemetry.RescheduledOutcome, outcome.Tags[MessagingTelemetry.OutcomeTag]);
    }

    [Fact]
    public async Task A_refused_credential_counts_one_pause_of_its_connector_however_many_messages_meet_it()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new ServiceNowUnauthorizedException("401 from sys_user")));
        var processor = Processor();

        foreach (var subject in new[] { "u1", "u2", "u3" })
        {
            await processor.ProcessAsync(_handler, Message(subject, TimeSpan.Zero), CancellationToken.None);
            _clock.Advance(TimeSpan.FromMinutes(2)); // past the probe interval: each message meets the refusal again
        }

        var pause = Assert.Single(_metrics.Of(MessagingTelemetry.ConnectorPausedMetric, (MessagingTelemetry.QueueTag, _queue)));
        Assert.Equal("serviceNow", pause.Tags[MessagingTelemetry.ConnectorTag]);
        Assert.Equal(1, pause.Value);
        await _handler.ReceivedWithAnyArgs(3).HandleAsync(default!, default);
    }
}
