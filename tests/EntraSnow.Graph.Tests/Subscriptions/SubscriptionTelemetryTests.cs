using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Subscriptions;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace EntraSnow.Graph.Tests.Subscriptions;

/// <summary>
/// Upkeep reports when each resource's subscription expires, which the workbook shows and the "expiring within 24 h" alert
/// reads. The resources are named for this test only, so other tests' upkeep runs never mix in.
/// </summary>
public sealed class SubscriptionTelemetryTests : IDisposable
{
    private const string NotificationUrl = "https://func.example/api/graph/notifications";
    private readonly string _created = $"created-{Guid.NewGuid():N}";
    private readonly string _fresh = $"fresh-{Guid.NewGuid():N}";
    private readonly string _renewed = $"renewed-{Guid.NewGuid():N}";
    private readonly IGraphSubscriptions _graph = Substitute.For<IGraphSubscriptions>();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));
    private readonly MetricRecorder _metrics = new(SubscriptionTelemetry.Name);

    public void Dispose() => _metrics.Dispose();

    [Fact]
    public async Task Upkeep_reports_the_expiry_of_every_resource_it_created_renewed_or_found_fresh()
    {
        var checkpoints = new InMemoryCheckpoints();
        var options = new SubscriptionOptions
        {
            NotificationUrl = NotificationUrl,
            LifecycleNotificationUrl = "https://func.example/api/graph/lifecycle",
            ClientState = "s3cret-client-state",
            Resources = [$"/{_created}", $"/{_fresh}", $"/{_renewed}"],
        };
        var fresh = Subscription("sub-fresh", _fresh, TimeSpan.FromDays(10));
        var expiring = Subscription("sub-renewed", _renewed, TimeSpan.FromHours(20));
        foreach (var existing in new[] { fresh, expiring })
        {
            await checkpoints.SetAsync(SubscriptionUpkeep.ClientStateKey(existing.Id), SubscriptionUpkeep.ClientStateFingerprint(existing.Id, options.ClientState));
        }

        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([fresh, expiring]);
        _graph.CreateAsync(Arg.Any<SubscriptionRequest>(), Arg.Any<CancellationToken>())
            .Returns(call => Subscription("sub-created", _created, call.Arg<SubscriptionRequest>().ExpirationDateTime - _clock.GetUtcNow()));
        _graph.RenewAsync("sub-renewed", Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(call => expiring with { ExpirationDateTime = call.Arg<DateTimeOffset>() });

        await new SubscriptionUpkeep(_graph, checkpoints, Options.Create(options), _clock, NullLogger<SubscriptionUpkeep>.Instance).RunAsync(CancellationToken.None);

        var newExpiry = _clock.GetUtcNow().AddMinutes(options.ExpirationMinutes).ToUnixTimeSeconds();
        Assert.Equal(newExpiry, ReportedExpiry(_created));
        Assert.Equal(newExpiry, ReportedExpiry(_renewed));
        Assert.Equal(fresh.ExpirationDateTime.ToUnixTimeSeconds(), ReportedExpiry(_fresh));
    }

    private double ReportedExpiry(string resource) =>
        Assert.Single(_metrics.Of(SubscriptionTelemetry.ExpirationMetric, (SubscriptionTelemetry.ResourceTag, resource))).Value;

    private GraphSubscription Subscription(string id, string resource, TimeSpan expiresIn) => new()
    {
        Id = id,
        Resource = $"/{resource}",
        ChangeType = "updated,deleted",
        NotificationUrl = NotificationUrl,
        ExpirationDateTime = _clock.GetUtcNow() + expiresIn,
    };
}
