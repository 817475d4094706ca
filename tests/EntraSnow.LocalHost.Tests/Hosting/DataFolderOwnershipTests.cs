using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Tests.Hosting;

public sealed class DataFolderOwnershipTests
{
    [Fact]
    public async Task A_second_local_host_on_the_same_data_folder_refuses_to_start_and_names_the_setting()
    {
        await using var first = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("folder-owner-client-state"));
        await using var second = LocalHostApp.Build(LocalHostHarness.Arguments(
            $"http://127.0.0.1:{LocalHostHarness.FreePort()}", first.DataPath, LocalHostHarness.IntakeOnly("folder-owner-client-state")));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync());

        Assert.Contains("LocalHost:DataPath", refused.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(first.DataPath), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_a_dead_host_had_in_hand_is_free_as_soon_as_the_next_host_starts()
    {
        var data = LocalHostHarness.NewDataPath();
        try
        {
            // What a host killed mid-message leaves behind: a message locked for the whole visibility timeout.
            await using (var dead = new SqliteQueueStore(Path.Combine(data, "queues.db"), Options.Create(new SqliteQueueOptions()), TimeProvider.System,
                NullLogger<SqliteQueueStore>.Instance))
            {
                await dead.SendAsync(QueueNames.UserChanges, [new ChangeMessage
                {
                    MessageId = "m1",
                    SessionKey = "user-1",
                    Kind = MessageKinds.UserUpdated,
                    TenantId = "tenant",
                    SubjectId = "user-1",
                    ChangedAt = DateTimeOffset.UnixEpoch,
                    CorrelationId = "c1",
                }]);
                Assert.NotNull(await dead.ReceiveAsync(QueueNames.UserChanges));
            }

            await using var next = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("folder-owner-client-state"), data);

            var stats = (await next.Queues.GetStatsAsync()).Single(s => s.Queue == QueueNames.UserChanges);
            Assert.Equal(0, stats.InFlight);
            Assert.Equal(1, stats.Depth);
        }
        finally
        {
            LocalHostHarness.TryDelete(data);
        }
    }
}
