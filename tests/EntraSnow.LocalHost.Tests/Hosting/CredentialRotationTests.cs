using System.Text.Json;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Hosting;

/// <summary>
/// The ServiceNow integration account's secret rotated while a sync's users are being provisioned, through the whole
/// local host against the emulators, in virtual time: the work waits, one message tries ServiceNow per probe interval,
/// and once the new secret works everything is provisioned with nothing dead-lettered.
/// </summary>
public sealed class CredentialRotationTests
{
    private static readonly TimeSpan ProbeInterval = new MessagingOptions().PausedRetryDelay;

    private static ChangeMessage SyncMessage(string userId) => new()
    {
        MessageId = $"sync-run-1:{userId}", SessionKey = userId, Kind = MessageKinds.UserSync, TenantId = "sandbox", SubjectId = userId,
        ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "sync-run-1",
    };

    [Fact]
    public async Task A_ServiceNow_secret_rotated_in_the_middle_of_a_sync_dead_letters_nothing_and_costs_one_refused_call_per_probe()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        await using var host = await LocalHostHarness.StartEmptyAsync(clock: clock);
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        var credentials = host.Services.GetRequiredService<ServiceNowCredentials>();
        var counters = host.Services.GetRequiredService<ServiceNowEmulatorCounters>();
        var users = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            users.Add(await graph.CreateUserAsync($"Rotation User {i:00}"));
        }

        int Provisioned() => users.Count(id => serviceNow.Query("sys_user", $"u_entra_object_id={id}").Count == 1);
        async Task<QueueStats> UserChanges() => (await host.Queues.GetStatsAsync()).Single(s => s.Queue == QueueNames.UserChanges);

        // The sync's first ten users go through; then the secret is rotated in ServiceNow before the rest are handled.
        await host.Queues.SendAsync(QueueNames.UserChanges, [.. users.Take(10).Select(SyncMessage)]);
        await Eventually.AssertAsync(() => Provisioned() == 10, "the first ten users in ServiceNow");
        credentials.Revoke();
        var refusedBefore = counters.Unauthorized;
        await host.Queues.SendAsync(QueueNames.UserChanges, [.. users.Skip(10).Select(SyncMessage)]);
        await Eventually.AssertAsync(async () => await UserChanges() is { Scheduled: 20, Depth: 0, InFlight: 0 }, "the other twenty waiting for ServiceNow");

        using (var health = JsonDocument.Parse(await host.Client.GetStringAsync("/api/health")))
        {
            Assert.Equal("degraded", health.RootElement.GetProperty("status").GetString());
            var paused = Assert.Single(health.RootElement.GetProperty("paused").EnumerateArray().ToList());
            Assert.Equal("serviceNow", paused.GetProperty("connector").GetString());
            Assert.Equal([QueueNames.UserChanges], paused.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
        }

        // Five probe intervals with the old secret: each costs one refused call, not one per waiting user.
        var refusedAtPause = counters.Unauthorized - refusedBefore;
        for (var probe = 1; probe <= 5; probe++)
        {
            var before = counters.Unauthorized;
            clock.Advance(ProbeInterval);
            await Eventually.AssertAsync(() => counters.Unauthorized > before, $"probe {probe} refused");
            await Eventually.AssertAsync(async () => await UserChanges() is { Scheduled: 20, Depth: 0, InFlight: 0 }, $"the work waiting again after probe {probe}");
        }

        var refusedByProbes = counters.Unauthorized - refusedBefore - refusedAtPause;
        Assert.True(refusedByProbes <= 5 * 2, $"{refusedByProbes} refused calls in five probe intervals for twenty waiting users");

        // The new secret is in place: the next probe gets through, and the waiting work follows at once, without virtual
        // time moving again.
        credentials.Restore();
        clock.Advance(ProbeInterval);
        await Eventually.AssertAsync(() => Provisioned() == 30, "all thirty users provisioned right after the probe");
        Assert.Equal(30, Provisioned());
        Assert.Empty(await host.Queues.ListDeadLettersAsync());
        using var healed = JsonDocument.Parse(await host.Client.GetStringAsync("/api/health"));
        Assert.Empty(healed.RootElement.GetProperty("paused").EnumerateArray());
    }
}
