using EntraSnow.Tests.Shared;
using System.Net;
using System.Text;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Tests.Intake;

/// <summary>The local host as a real process, killed with SIGKILL: what it acknowledged must still be there.</summary>
public sealed class CrashSafetyTests : IDisposable
{
    private readonly string _dataPath = LocalHostHarness.NewDataPath();

    public void Dispose() => LocalHostHarness.TryDelete(_dataPath);

    [Fact]
    public async Task Every_acknowledged_notification_survives_the_process_being_killed()
    {
        const int notifications = 300;
        var template = Samples.GraphSample("user-updated.json");
        var acknowledged = 0;
        await using (var host = await LocalHostProcess.StartAsync(_dataPath, LocalHostHarness.IntakeOnly(Samples.ClientState)))
        {
            var posts = Enumerable.Range(0, notifications).Select(async i =>
            {
                var userId = new Guid(i, 0, 0, new byte[8]).ToString();
                var body = template.Replace(Samples.UserId, userId, StringComparison.Ordinal);
                using var response = await host.Client.PostAsync("/api/graph/notifications", new StringContent(body, Encoding.UTF8, "application/json"));
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref acknowledged);
                }
            });
            await Task.WhenAll(posts);

            // No graceful shutdown: the process is killed the moment the last answer arrived.
            await host.KillAsync();
        }

        await using var store = new SqliteQueueStore(Path.Combine(_dataPath, "queues.db"), Options.Create(new SqliteQueueOptions()), TimeProvider.System,
            NullLogger<SqliteQueueStore>.Instance);
        Assert.Equal(notifications, acknowledged);
        Assert.Equal(notifications, (await store.GetStatsAsync()).Single(s => s.Queue == QueueNames.UserChanges).Depth);
    }
}
