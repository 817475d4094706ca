using System.Collections.Concurrent;
using System.Threading.Channels;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Stores;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>
/// Durable queues in one SQLite file (WAL): at-least-once delivery, visibility timeout, delivery count, dead-lettering
/// with a reason, duplicate detection by message id, scheduled messages, and one-at-a-time processing per session key.
/// Every write goes through one writer loop that commits the writes waiting at that moment in a single transaction
/// (group commit): concurrent requests share one fsync instead of queueing behind each other's.
/// A write's task completes only after its transaction committed; a write whose caller cancelled before it ran is not
/// made (so a caller that saw its send cancelled knows nothing was stored), and one that ran reports its real outcome.
/// </summary>
public sealed partial class SqliteQueueStore : IMessageQueue, IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly SqliteQueueOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<SqliteQueueStore> _logger;
    private readonly Channel<WriteOperation> _writes = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, WorkSignal> _signals = new(StringComparer.Ordinal);
    private readonly Task _writerLoop;
    private readonly SqliteConnection _writer;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteQueueStore(string databasePath, IOptions<SqliteQueueOptions> options, TimeProvider clock, ILogger<SqliteQueueStore> logger)
    {
        DatabasePath = Path.GetFullPath(databasePath);
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _writer = Open();
        SqliteSpace.UseIncrementalVacuum(_writer);
        CreateSchema(_writer);
        AddHeldByColumn(_writer);
        _writerLoop = Task.Run(RunWriterAsync);
    }

    public string DatabasePath { get; }

    // ---- Sending ---------------------------------------------------------------------------------------------

    public Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default) =>
        SendCoreAsync(queue, messages, visibleAt: null, cancellationToken);

    public Task ScheduleAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default) =>
        SendCoreAsync(queue, [message], visibleAt, cancellationToken);

    private async Task SendCoreAsync(string queue, IReadOnlyList<ChangeMessage> messages, DateTimeOffset? visibleAt, CancellationToken cancellationToken)
    {
        QueueNameCheck(queue);
        if (messages.Count == 0)
        {
            return;
        }

        var bodies = messages.Select(m => (m, ChangeMessageJson.Serialize(m))).ToArray();
        await ExecuteAsync(connection =>
        {
            var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            var visible = visibleAt?.ToUnixTimeMilliseconds() ?? now;
            var dedupe = Command(connection, "dedupe", """
                INSERT INTO dedupe(queue, message_id, expires_at) VALUES ($queue, $id, $expires)
                ON CONFLICT(queue, message_id) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe.expires_at <= $now
                """);
            var insert = Command(connection, "insert", """
                INSERT INTO messages(queue, message_id, session_key, kind, subject_id, correlation_id, body, enqueued_at, visible_at, delivery_count, state)
                VALUES ($queue, $id, $session, $kind, $subject, $correlation, $body, $now, $visible, 0, 0)
                """);
            var stored = 0;
            foreach (var (message, body) in bodies)
            {
                Bind(dedupe, ("$queue", queue), ("$id", message.MessageId), ("$expires", now + (long)_options.DuplicateDetectionWindow.TotalMilliseconds), ("$now", now));
                if (dedupe.ExecuteNonQuery() == 0)
                {
                    continue; // seen within the window: a duplicate
                }

                Bind(insert, ("$queue", queue), ("$id", message.MessageId), ("$session", message.SessionKey), ("$kind", message.Kind),
                    ("$subject", message.SubjectId), ("$correlation", message.CorrelationId), ("$body", body), ("$now", now), ("$visible", visible));
                insert.ExecuteNonQuery();
                stored++;
            }

            return stored;
        }, cancellationToken);
        Signal(queue).Set();
        Queued?.Invoke(queue);
    }

    /// <summary>
    /// Raised after this process stored messages on a queue. A command that queues work beside a serving host (a
    /// <c>sync</c> in another terminal) passes it on, since this process's signal does not reach that host's consumers.
    /// </summary>
    public event Action<string>? Queued;

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _writerLoop;
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        await _writer.DisposeAsync();
    }
}
