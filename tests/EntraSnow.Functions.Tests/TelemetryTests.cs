using System.Diagnostics;
using System.Text;
using Azure.Core;
using Azure.Messaging.ServiceBus;
using Azure.Monitor.OpenTelemetry.Exporter;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Consumers;
using EntraSnow.Functions.Intake;
using EntraSnow.Functions.Messaging;
using EntraSnow.Functions.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace EntraSnow.Functions.Tests;

/// <summary>
/// The Functions app's telemetry: what Program.cs wires reaches an exporter, and one change is one trace from the
/// intake request through its Service Bus message to the consumer, with the correlation id as its operation id.
/// The ActivitySources and the messaging Meter are process-wide, so these tests run alone (no other test's spans or
/// counts are mixed in).
/// </summary>
[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests : IAsyncLifetime
{
    private const string UserId = "8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f";
    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];
    private readonly List<ServiceBusMessage> _sent = [];
    private readonly IMessageHandler _handler = Substitute.For<IMessageHandler>();
    private ServiceProvider _provider = null!;

    public Task InitializeAsync()
    {
        var client = Substitute.For<ServiceBusClient>();
        var sender = Substitute.For<ServiceBusSender>();
        client.CreateSender(Arg.Any<string>()).Returns(sender);
        sender.CreateMessageBatchAsync(Arg.Any<CancellationToken>()).Returns(_ => ServiceBusModelFactory.ServiceBusMessageBatch(256 * 1024, _sent));
        _handler.Queue.Returns(QueueNames.UserChanges);

        var services = new ServiceCollection().AddLogging().AddProblemDetails();
        services.AddSingleton(sp => new ServiceBusQueue(client, Options.Create(new ServiceBusOptions { FullyQualifiedNamespace = "example.servicebus.windows.net" }), TimeProvider.System));
        // The paused connectors the instances share live in Table storage, which these deliveries need not reach: none.
        var pauses = Substitute.For<ISharedConnectorPauses>();
        pauses.ListAsync(default).ReturnsForAnyArgs([]);
        services.AddSingleton(pauses);
        services.AddEntraSnowFunctions(new ConfigurationBuilder().AddInMemoryCollection(FunctionsCompositionTests.AzureSettings()).Build());
        services.AddTelemetryPipeline()
            .WithTracing(tracing => tracing.AddInMemoryExporter(_spans))
            .WithMetrics(metrics => metrics.AddInMemoryExporter(_metrics));
        _provider = services.BuildServiceProvider();
        _ = _provider.GetRequiredService<TracerProvider>();
        _ = _provider.GetRequiredService<MeterProvider>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _provider.DisposeAsync();

    [Fact]
    public async Task An_intake_call_and_the_consumer_of_its_message_are_one_trace_whose_id_is_the_correlation_id()
    {
        // The host's trace context, which the worker's invocation continues (as the real-worker fixture passes it).
        var hostTrace = ActivityTraceId.CreateRandom();
        var invocation = new Activity("Invoke GraphNotifications").SetParentId(hostTrace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start();
        var status = await PostNotification();
        invocation.Stop();

        Assert.Equal(StatusCodes.Status202Accepted, status);
        var message = Assert.Single(_sent);
        Assert.Equal(hostTrace.ToHexString(), message.CorrelationId);

        // The consumer runs in another invocation, later: the message alone carries the trace.
        await new ServiceBusDelivery([_handler], _provider.GetRequiredService<MessageProcessor>(), _provider.GetRequiredService<IMessageQueue>(), NullLogger<ServiceBusDelivery>.Instance)
            .ProcessAsync(QueueNames.UserChanges, Delivered(message), Substitute.For<ServiceBusMessageActions>(), CancellationToken.None);
        _provider.GetRequiredService<TracerProvider>().ForceFlush();

        var intake = Assert.Single(_spans, s => s.OperationName == "intake graph notifications");
        var send = Assert.Single(_spans, s => s.OperationName == $"send {QueueNames.UserChanges}");
        var process = Assert.Single(_spans, s => s.OperationName == $"process {QueueNames.UserChanges}");
        Assert.All(new[] { intake, send, process }, span =>
        {
            Assert.Equal(hostTrace, span.TraceId);
            Assert.Equal(message.CorrelationId, span.GetTagItem(MessagingTelemetry.CorrelationIdTag));
        });
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal(intake.SpanId, send.ParentSpanId);
        Assert.Equal(send.SpanId, process.ParentSpanId);
        Assert.Equal("completed", process.GetTagItem("entrasnow.outcome"));
        await _handler.Received(1).HandleAsync(Arg.Is<ChangeMessage>(m => m.CorrelationId == hostTrace.ToHexString()), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task The_intake_and_messaging_counters_reach_the_exporter()
    {
        var status = await PostNotification();
        await new ServiceBusDelivery([_handler], _provider.GetRequiredService<MessageProcessor>(), _provider.GetRequiredService<IMessageQueue>(), NullLogger<ServiceBusDelivery>.Instance)
            .ProcessAsync(QueueNames.UserChanges, Delivered(Assert.Single(_sent)), Substitute.For<ServiceBusMessageActions>(), CancellationToken.None);
        _provider.GetRequiredService<MeterProvider>().ForceFlush();

        Assert.Equal(StatusCodes.Status202Accepted, status);
        Assert.Equal(1, Sum("entrasnow.intake.queued", ("queue", QueueNames.UserChanges)));
        Assert.Equal(1, Sum("entrasnow.messages.processed", ("queue", QueueNames.UserChanges), ("outcome", "completed")));
    }

    [Fact]
    public void With_a_connection_string_the_Azure_Monitor_exporter_signs_in_with_the_apps_one_credential()
    {
        var settings = FunctionsCompositionTests.AzureSettings();
        settings[FunctionsTelemetry.ConnectionStringSetting] = "InstrumentationKey=00000000-0000-4000-8000-000000000004;IngestionEndpoint=https://example.in.applicationinsights.azure.com/";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddEntraSnowFunctions(configuration);
        services.AddEntraSnowTelemetry(configuration);
        using var provider = services.BuildServiceProvider();

        var exporter = provider.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().Get(Options.DefaultName);

        Assert.Equal(settings[FunctionsTelemetry.ConnectionStringSetting], exporter.ConnectionString);
        Assert.Same(provider.GetRequiredService<TokenCredential>(), exporter.Credential);
    }

    [Fact]
    public void Without_a_connection_string_nothing_is_collected()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(FunctionsCompositionTests.AzureSettings()).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddEntraSnowTelemetry(configuration);
        using var provider = services.BuildServiceProvider();

        Assert.Null(provider.GetService<TracerProvider>());
    }

    private async Task<int> PostNotification()
    {
        var context = new DefaultHttpContext { RequestServices = _provider };
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes($$"""
            {"value":[{"changeType":"updated","clientState":"a-client-state-of-enough-length","resource":"Users/{{UserId}}",
            "resourceData":{"@odata.type":"#Microsoft.Graph.User","id":"{{UserId}}"},"subscriptionId":"s1","tenantId":"t1"}]}
            """));
        context.Response.Body = new MemoryStream();
        var result = await _provider.GetRequiredService<GraphNotificationFunctions>().Notifications(context.Request, CancellationToken.None);
        await result.ExecuteAsync(context);
        return context.Response.StatusCode;
    }

    /// <summary>The message as Service Bus delivers it: body, ids and application properties as sent.</summary>
    private static ServiceBusReceivedMessage Delivered(ServiceBusMessage sent) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(body: sent.Body, messageId: sent.MessageId, sessionId: sent.SessionId,
            correlationId: sent.CorrelationId, properties: sent.ApplicationProperties, lockTokenGuid: Guid.NewGuid(), deliveryCount: 1);

    private long Sum(string name, params (string Key, string Value)[] tags)
    {
        long total = 0;
        foreach (var metric in _metrics.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var pointTags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    pointTags[tag.Key] = tag.Value;
                }

                if (tags.All(t => Equals(pointTags.GetValueOrDefault(t.Key), t.Value)))
                {
                    total += point.GetSumLong();
                }
            }
        }

        return total;
    }
}

[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryTestsCollection;
