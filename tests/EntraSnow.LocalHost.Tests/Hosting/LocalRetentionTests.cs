using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Retention;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.ProvisioningLog;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Stores;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Hosting;

/// <summary>Retention in the local host's data folder: what is deleted, when, and that the disk space comes back.</summary>
public sealed class LocalRetentionTests : IDisposable
{
    private readonly string _data = LocalHostHarness.NewDataPath();
    // Ahead of the real clock, so nothing a test writes with the real clock looks newer than "now".
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow.AddDays(1));

    public void Dispose() => LocalHostHarness.TryDelete(_data);

    private static long Pragma(string path, string pragma)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {pragma}";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static ChangeMessage Message(string id) => new()
    {
        MessageId = id, SessionKey = id, Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = id, ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "c",
    };

    [Fact]
    public async Task Provisioning_log_entries_past_the_cutoff_are_deleted_and_their_space_given_back_to_the_disk()
    {
        var path = Path.Combine(_data, "provisioning-log.db");
        var log = new SqliteProvisioningLog(path);
        var now = _clock.GetUtcNow();
        for (var i = 0; i < 1000; i++)
        {
            await log.AppendAsync(new ProvisioningLogEntry
            {
                Timestamp = now.AddDays(-100).AddSeconds(i), CorrelationId = "old-run", MessageId = $"m{i}", SubjectId = $"user-{i}",
                ObjectKind = ProvisioningObjectKinds.User, Action = ProvisioningAction.Failed, Reason = new string('x', 1200),
            });
        }

        await log.AppendAsync(new ProvisioningLogEntry
        {
            Timestamp = now.AddDays(-1), CorrelationId = "new-run", MessageId = "new", SubjectId = "user-new",
            ObjectKind = ProvisioningObjectKinds.User, Action = ProvisioningAction.Created,
        });
        var pagesBefore = Pragma(path, "page_count");

        var deleted = await log.PurgeOlderThanAsync(now.AddDays(-90));

        Assert.Equal(1000, deleted);
        Assert.Equal(["user-new"], (await log.GetRecentAsync(10)).Select(e => e.SubjectId));
        Assert.Equal(0, Pragma(path, "freelist_count"));
        Assert.True(Pragma(path, "page_count") < pagesBefore / 10, "the file gave its freed pages back");
    }

    [Fact]
    public async Task A_data_file_from_an_earlier_version_is_switched_to_incremental_vacuum_with_its_rows_kept()
    {
        Directory.CreateDirectory(_data);
        var path = Path.Combine(_data, "checkpoints.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE checkpoints (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL) WITHOUT ROWID;
                INSERT INTO checkpoints VALUES ('delta:users', 'link', '2026-01-01T00:00:00.0000000+00:00');
                """;
            create.ExecuteNonQuery();
        }

        Assert.Equal(0, Pragma(path, "auto_vacuum"));
        var store = new SqliteCheckpointStore(path, _clock);

        Assert.Equal(2, Pragma(path, "auto_vacuum"));
        Assert.Equal("link", await store.GetAsync("delta:users"));
    }

    [Fact]
    public async Task Checkpoints_are_listed_by_prefix_even_with_like_wildcards_in_the_keys()
    {
        var store = new SqliteCheckpointStore(Path.Combine(_data, "checkpoints.db"), _clock);
        await store.SetAsync("deleted:user:a%1", "x");
        await store.SetAsync("deleted:user:b_2", "y");
        await store.SetAsync("deleted:userXc", "not this one");
        await store.SetAsync("delta:users", "link");

        var listed = await store.ListAsync("deleted:user:").ToListAsync();

        Assert.Equal(["deleted:user:a%1", "deleted:user:b_2"], listed.Select(c => c.Key));
        Assert.All(listed, c => Assert.Equal(_clock.GetUtcNow(), c.UpdatedAt));
    }

    [Fact]
    public async Task Webhook_request_ids_past_their_window_are_deleted_and_a_fresh_one_still_refuses_its_replay()
    {
        var store = new SqliteWebhookReplayStore(Path.Combine(_data, "webhook-requests.db"), _clock);
        var now = _clock.GetUtcNow();
        Assert.True(await store.TryRememberAsync("spent", now.AddHours(-1)));
        Assert.True(await store.TryRememberAsync("fresh", now.AddSeconds(-10)));

        Assert.Equal(1, await store.PurgeExpiredAsync(now));

        Assert.False(await store.TryRememberAsync("fresh", now.AddSeconds(-10)));
    }

    [Fact]
    public async Task The_running_hosts_retention_job_deletes_old_dead_letters_and_keeps_recent_ones()
    {
        await using var host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("retention-client-state-0123456789"), _data,
            builder => builder.Services.AddSingleton<TimeProvider>(_clock));
        await host.Queues.SendAsync(QueueNames.UserChanges, [Message("old"), Message("recent")]);
        await host.Queues.DeadLetterAsync((await host.Queues.ReceiveAsync(QueueNames.UserChanges))!, "PermanentFailure", "old reason");
        _clock.Advance(TimeSpan.FromDays(25));
        await host.Queues.DeadLetterAsync((await host.Queues.ReceiveAsync(QueueNames.UserChanges))!, "PermanentFailure", "recent reason");
        _clock.Advance(TimeSpan.FromDays(6));

        var report = await host.Services.GetRequiredService<RetentionJob>().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.DeadLetters);
        var left = Assert.Single(await host.Queues.ListDeadLettersAsync());
        Assert.Equal("recent reason", left.Description);
        Assert.Equal(0, Pragma(host.Queues.DatabasePath, "freelist_count"));
    }

    [Fact]
    public async Task Expired_duplicate_detection_rows_are_forgotten_while_consumers_are_off()
    {
        await using var host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("retention-client-state-0123456789"), _data,
            builder => builder.Services.AddSingleton<TimeProvider>(_clock));
        await host.Queues.SendAsync(QueueNames.UserChanges, [Message("a"), Message("b")]);
        Assert.Equal(2, DedupeRows(host.Queues.DatabasePath));

        // Past the 10-minute window, then the next 5-minute tick of the expiry.
        _clock.Advance(TimeSpan.FromMinutes(15));

        await Eventually.AssertAsync(() => DedupeRows(host.Queues.DatabasePath) == 0, "the expired dedupe rows forgotten");
        Assert.Equal(2, (await host.Queues.GetStatsAsync()).Single(s => s.Queue == QueueNames.UserChanges).Depth);
    }

    private static long DedupeRows(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM dedupe";
        return (long)command.ExecuteScalar()!;
    }
}
