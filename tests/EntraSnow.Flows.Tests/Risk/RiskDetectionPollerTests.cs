using EntraSnow.Tests.Shared;
using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Risk;
using EntraSnow.Flows.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.Risk;

public sealed class RiskDetectionPollerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly IDirectory _directory = Substitute.For<IDirectory>();
    private readonly RecordingQueue _queue = new();
    private readonly InMemoryCheckpoints _checkpoints = new();
    private readonly FakeTimeProvider _clock = new(Now);

    private RiskDetectionPoller Poller(TimeSpan? overlap = null) => new(_directory, _queue, _checkpoints,
        Options.Create(new RiskOptions { Overlap = overlap ?? TimeSpan.FromHours(48), TenantId = "tenant-1" }), _clock, NullLogger<RiskDetectionPoller>.Instance);

    private static RiskDetection Detection(string id, DateTimeOffset updated, string state = "atRisk", string userId = "user-1") => new()
    {
        Id = id,
        UserId = userId,
        UserPrincipalName = $"{userId}@contoso.example",
        RiskEventType = "unfamiliarFeatures",
        RiskLevel = "high",
        RiskState = state,
        IpAddress = "203.0.113.7",
        DetectedDateTime = updated.AddMinutes(-5),
        LastUpdatedDateTime = updated,
    };

    private void GraphServes(DateTimeOffset updatedAfter, string? resumeLink, params RiskDetectionPage[] pages) =>
        _directory.GetRiskDetectionPagesAsync(updatedAfter, resumeLink, Arg.Any<CancellationToken>()).Returns(pages.ToAsyncEnumerable());

    private void Watermark(DateTimeOffset at) => _checkpoints.Values[RiskDetectionPoller.WatermarkKey] = at.ToString("O", CultureInfo.InvariantCulture);

    private DateTimeOffset StoredWatermark => DateTimeOffset.Parse(_checkpoints.Values[RiskDetectionPoller.WatermarkKey], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Each_detection_is_queued_once_for_its_user_and_the_watermark_moves_to_the_newest_change()
    {
        var watermark = Now.AddHours(-1);
        Watermark(watermark);
        GraphServes(watermark.AddHours(-48), null,
            new RiskDetectionPage([Detection("d1", Now.AddMinutes(-30)), Detection("d2", Now.AddMinutes(-10), userId: "user-2")], "next-1"),
            new RiskDetectionPage([Detection("d3", Now.AddMinutes(-20))], null));

        var result = await Poller().RunAsync(default);

        var queued = _queue.On(QueueNames.RiskDetections);
        Assert.Equal(["d1", "d2", "d3"], queued.Select(m => m.SubjectId));
        Assert.All(queued, m => Assert.Equal(MessageKinds.RiskDetection, m.Kind));
        Assert.Equal(["user-1", "user-2", "user-1"], queued.Select(m => m.SessionKey));
        Assert.Equal("high", queued[0].Property("riskLevel"));
        Assert.Equal("203.0.113.7", queued[0].Property("ipAddress"));
        Assert.Equal(Now.AddMinutes(-10), StoredWatermark);
        Assert.Equal(new RiskPollResult(2, 3, Now.AddMinutes(-10), Resumed: false), result);
        Assert.False(_checkpoints.Values.ContainsKey(RiskDetectionPoller.ResumeKey));
    }

    [Fact]
    public async Task The_same_detection_polled_twice_is_one_message_and_a_later_state_change_is_another()
    {
        var first = Detection("d1", Now.AddMinutes(-30));
        var dismissed = Detection("d1", Now.AddMinutes(-5), state: "dismissed");
        _directory.GetRiskDetectionPagesAsync(Arg.Any<DateTimeOffset>(), null, Arg.Any<CancellationToken>())
            .Returns(new[] { new RiskDetectionPage([first], null) }.ToAsyncEnumerable(),
                new[] { new RiskDetectionPage([first], null) }.ToAsyncEnumerable(),
                new[] { new RiskDetectionPage([dismissed], null) }.ToAsyncEnumerable());

        await Poller().RunAsync(default);
        await Poller().RunAsync(default);
        await Poller().RunAsync(default);

        var queued = _queue.On(QueueNames.RiskDetections);
        Assert.Equal(["atRisk", "dismissed"], queued.Select(m => m.Property("riskState")));
        Assert.Equal(RiskDetectionMessage.MessageId(first), queued[0].MessageId);
        Assert.NotEqual(queued[0].MessageId, queued[1].MessageId);
    }

    [Fact]
    public async Task Every_poll_reads_back_the_overlap_window_before_the_watermark()
    {
        var watermark = Now.AddMinutes(-5);
        Watermark(watermark);
        GraphServes(watermark.AddHours(-6), null, new RiskDetectionPage([], null));

        await Poller(overlap: TimeSpan.FromHours(6)).RunAsync(default);

        _ = _directory.Received(1).GetRiskDetectionPagesAsync(watermark.AddHours(-6), null, Arg.Any<CancellationToken>());
        Assert.Equal(watermark, StoredWatermark);
    }

    [Fact]
    public async Task A_first_poll_reads_the_overlap_window_before_now()
    {
        GraphServes(Now.AddHours(-48), null, new RiskDetectionPage([Detection("d1", Now.AddHours(-47))], null));

        await Poller().RunAsync(default);

        Assert.Single(_queue.On(QueueNames.RiskDetections));
        Assert.Equal(Now, StoredWatermark);
    }

    [Fact]
    public async Task A_page_that_cannot_be_queued_leaves_the_watermark_and_the_next_run_resumes_after_the_last_queued_page()
    {
        var watermark = Now.AddHours(-1);
        Watermark(watermark);
        var from = watermark.AddHours(-48);
        GraphServes(from, null,
            new RiskDetectionPage([Detection("d1", Now.AddMinutes(-2))], "next-1"),
            new RiskDetectionPage([Detection("d2", Now.AddMinutes(-40))], "next-2"),
            new RiskDetectionPage([Detection("d3", Now.AddMinutes(-50))], null));
        _queue.FailingSend = 2;

        await Assert.ThrowsAsync<IOException>(() => Poller().RunAsync(default));

        Assert.Equal(watermark, StoredWatermark);
        Assert.Equal(["d1"], _queue.On(QueueNames.RiskDetections).Select(m => m.SubjectId));

        GraphServes(from, "next-1",
            new RiskDetectionPage([Detection("d2", Now.AddMinutes(-40))], "next-2"),
            new RiskDetectionPage([Detection("d3", Now.AddMinutes(-50))], null));
        var result = await Poller().RunAsync(default);

        Assert.True(result.Resumed);
        Assert.Equal(["d1", "d2", "d3"], _queue.On(QueueNames.RiskDetections).Select(m => m.SubjectId));
        // The newest change queued before the failure still counts.
        Assert.Equal(Now.AddMinutes(-2), StoredWatermark);
    }

    [Fact]
    public async Task A_resume_link_Graph_no_longer_accepts_reads_the_whole_window_again()
    {
        var watermark = Now.AddHours(-1);
        Watermark(watermark);
        var from = watermark.AddHours(-48);
        _checkpoints.Values[RiskDetectionPoller.ResumeKey] = $$"""{"nextLink":"expired","newest":"{{Now.AddMinutes(-3):O}}"}""";
        _directory.GetRiskDetectionPagesAsync(from, "expired", Arg.Any<CancellationToken>())
            .Returns(_ => throw new GraphRequestException("The skip token is no longer valid.", 400, "BadRequest"));
        GraphServes(from, null, new RiskDetectionPage([Detection("d1", Now.AddMinutes(-30))], null));

        var result = await Poller().RunAsync(default);

        Assert.Equal(["d1"], _queue.On(QueueNames.RiskDetections).Select(m => m.SubjectId));
        Assert.Equal(1, result.Pages);
        Assert.False(_checkpoints.Values.ContainsKey(RiskDetectionPoller.ResumeKey));
    }

    [Fact]
    public void A_detection_travels_whole_in_its_message_and_comes_back_the_same()
    {
        var detection = Detection("d1", Now) with
        {
            UserDisplayName = "Adele Vance",
            RiskDetail = "none",
            DetectionTimingType = "offline",
            Activity = "signin",
            Source = "IdentityProtection",
            Location = "Rotterdam, Zuid-Holland, NL",
            ActivityDateTime = Now.AddMinutes(-7),
        };

        var message = ChangeMessageJson.Deserialize(ChangeMessageJson.Serialize(RiskDetectionMessage.From(detection, "tenant-1")));

        Assert.Equal(detection, RiskDetectionMessage.ToDetection(message));
        Assert.Equal("tenant-1", message.TenantId);
    }
}
