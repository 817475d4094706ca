using Azure.Messaging.ServiceBus;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Stores;
using EntraSnow.Functions.Risk;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Tests;

/// <summary>The risk functions as the Functions host calls them, over the app's own composition.</summary>
public sealed class RiskFunctionsTests : IDisposable
{
    private readonly IMessageQueue _queue = Substitute.For<IMessageQueue>();
    private readonly IDirectory _directory = Substitute.For<IDirectory>();
    private readonly ICheckpointStore _checkpoints = Substitute.For<ICheckpointStore>();
    private readonly IServiceNowTable _serviceNow = Substitute.For<IServiceNowTable>();
    private readonly IServiceNowReferences _references = Substitute.For<IServiceNowReferences>();
    private readonly ServiceProvider _provider;

    public RiskFunctionsTests()
    {
        _checkpoints.GetAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns((string?)null);
        _provider = Build(FunctionsCompositionTests.AzureSettings());
    }

    private ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddEntraSnowFunctions(configuration);
        services.AddSingleton(_queue).AddSingleton(_directory).AddSingleton(_checkpoints).AddSingleton(_serviceNow).AddSingleton(_references);
        return services.BuildServiceProvider();
    }

    public void Dispose() => _provider.Dispose();

    [Fact]
    public async Task The_poll_timer_queues_the_detections_Graph_reports()
    {
        var detection = new RiskDetection { Id = "d1", UserId = "u1", RiskLevel = "high", RiskState = "atRisk", DetectedDateTime = DateTimeOffset.UtcNow };
        _directory.GetRiskDetectionPagesAsync(Arg.Any<DateTimeOffset>(), null, Arg.Any<CancellationToken>())
            .Returns(new[] { new RiskDetectionPage([detection], null) }.ToAsyncEnumerable());

        await _provider.GetRequiredService<RiskFunctions>().PollRiskDetections(new TimerInfo(), CancellationToken.None);

        await _queue.Received(1).SendAsync(QueueNames.RiskDetections,
            Arg.Is<IReadOnlyList<ChangeMessage>>(m => m.Single().SubjectId == "d1" && m.Single().TenantId == "00000000-0000-4000-8000-000000000001"),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task The_consumer_opens_an_incident_for_a_queued_detection_and_completes_the_message()
    {
        var detection = new RiskDetection { Id = "d1", UserId = "u1", RiskLevel = "high", RiskState = "atRisk", RiskEventType = "leakedCredentials", DetectedDateTime = DateTimeOffset.UtcNow };
        _directory.GetRiskDetectionPagesAsync(Arg.Any<DateTimeOffset>(), null, Arg.Any<CancellationToken>())
            .Returns(new[] { new RiskDetectionPage([detection], null) }.ToAsyncEnumerable());
        ChangeMessage? queued = null;
        await _queue.SendAsync(QueueNames.RiskDetections, Arg.Do<IReadOnlyList<ChangeMessage>>(m => queued = m.Single()), Arg.Any<CancellationToken>());
        await _provider.GetRequiredService<RiskFunctions>().PollRiskDetections(new TimerInfo(), CancellationToken.None);
        _serviceNow.QueryAsync(Arg.Any<string>(), Arg.Any<EncodedQuery>(), Arg.Any<IReadOnlyList<string>?>(), Arg.Any<CancellationToken>())
            .Returns(AsyncEnumerable.Empty<ServiceNowRecord>());
        _references.FindAsync("sys_user", "u_entra_object_id", "u1", Arg.Any<CancellationToken>()).Returns("caller-sys-id");
        _references.FindAsync("sys_user_group", "name", "Security Operations", Arg.Any<CancellationToken>()).Returns("group-sys-id");
        _serviceNow.CreateAsync(default!, default!, default).ReturnsForAnyArgs(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = "i1", ["number"] = "INC0010001" }));
        var delivered = ServiceBusModelFactory.ServiceBusReceivedMessage(body: BinaryData.FromString(ChangeMessageJson.Serialize(queued!)),
            messageId: queued!.MessageId, sessionId: queued.SessionKey, lockTokenGuid: Guid.NewGuid(), deliveryCount: 1);
        var actions = Substitute.For<ServiceBusMessageActions>();

        await _provider.GetRequiredService<RiskFunctions>().OpenRiskIncidents(delivered, actions, CancellationToken.None);

        await _serviceNow.Received(1).CreateAsync("incident", Arg.Is<IReadOnlyDictionary<string, string?>>(f =>
            f["caller_id"] == "caller-sys-id" && f["assignment_group"] == "group-sys-id" && f["impact"] == "1" && f["correlation_id"]!.StartsWith("entra-risk:u1:")), Arg.Any<CancellationToken>());
        await actions.Received(1).CompleteMessageAsync(delivered, Arg.Any<CancellationToken>());
    }

    [Fact]
    public void A_poll_schedule_that_is_not_a_six_field_CRON_expression_fails_at_start_up_naming_the_setting()
    {
        var settings = FunctionsCompositionTests.AzureSettings();
        settings["Risk:PollSchedule"] = "*/5 * * * *";
        using var provider = Build(settings);

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EntraSnow.Flows.Risk.RiskOptions>>().Value);

        Assert.Contains("PollSchedule", error.Message, StringComparison.Ordinal);
    }
}
