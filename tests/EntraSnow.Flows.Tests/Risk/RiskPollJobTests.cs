using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Risk;
using EntraSnow.Flows.Tests.Support;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.Risk;

/// <summary>The risk poller's timer, as both hosts run it, with the <c>Risk:Enabled</c> switch.</summary>
public sealed class RiskPollJobTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly IDirectory _directory = Substitute.For<IDirectory>();
    private readonly RecordingQueue _queue = new();
    private readonly RecordingLogger<RiskPollJob> _log = new();

    private RiskPollJob Job(bool enabled)
    {
        var options = Options.Create(new RiskOptions { Enabled = enabled, TenantId = "tenant-1" });
        var poller = new RiskDetectionPoller(_directory, _queue, new InMemoryCheckpoints(), options, new FakeTimeProvider(Now), NullLogger<RiskDetectionPoller>.Instance);
        return new RiskPollJob(poller, options, _log);
    }

    private static RiskDetection Detection(string id) => new()
    {
        Id = id, UserId = "user-1", UserPrincipalName = "user-1@contoso.example", RiskEventType = "unfamiliarFeatures", RiskLevel = "high",
        RiskState = "atRisk", DetectedDateTime = Now.AddMinutes(-10), LastUpdatedDateTime = Now.AddMinutes(-5),
    };

    [Fact]
    public async Task Switched_off_the_timer_reads_nothing_queues_nothing_and_says_so_once()
    {
        _directory.GetRiskDetectionPagesAsync(default, default, default).ReturnsForAnyArgs(new[] { new RiskDetectionPage([Detection("d1")], null) }.ToAsyncEnumerable());
        var job = Job(enabled: false);

        for (var tick = 0; tick < 3; tick++)
        {
            await job.RunAsync(CancellationToken.None);
        }

        Assert.Empty(_directory.ReceivedCalls());
        Assert.Empty(_queue.On(QueueNames.RiskDetections));
        var line = Assert.Single(_log.Lines);
        Assert.Contains("Risk:Enabled is false", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_by_default_the_timer_queues_what_Identity_Protection_reports()
    {
        Assert.True(new RiskOptions().Enabled);
        _directory.GetRiskDetectionPagesAsync(default, default, default).ReturnsForAnyArgs(new[] { new RiskDetectionPage([Detection("d1")], null) }.ToAsyncEnumerable());

        await Job(enabled: true).RunAsync(CancellationToken.None);

        Assert.Equal(["d1"], _queue.On(QueueNames.RiskDetections).Select(m => m.SubjectId));
        Assert.Empty(_log.Lines);
    }
}
