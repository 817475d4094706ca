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

    // ---- Receiving and settling ------------------------------------------------------------------------------

    /// <summary>Takes the next visible message whose session has nothing in flight, or null when there is none.</summary>
    public Task<ReceivedMessage?> ReceiveAsync(string queue, CancellationToken cancellationToken = default) =>
        ReceiveAsync(queue, [], cancellationToken);

    /// <summary>
    /// As <see cref="ReceiveAsync(string, CancellationToken)"/>, skipping <paramref name="busySessions"/>: the sessions this
    /// process is still working on, whose lock may have lapsed while their handler is winding down.
    /// </summary>
    public Task<ReceivedMessage?> ReceiveAsync(string queue, IReadOnlyCollection<string> busySessions, CancellationToken cancellationToken = default)
    {
        QueueNameCheck(queue);
        var busy = BusyJson(busySessions);
        return ExecuteAsync(connection =>
        {
            var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            var select = Command(connection, "receive-select", """
                SELECT m.seq, m.delivery_count, m.body, m.message_id FROM messages m
                WHERE m.queue = $queue AND m.state = 0 AND m.visible_at <= $now AND (m.locked_until IS NULL OR m.locked_until <= $now)
                  AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.queue = m.queue AND o.session_key = m.session_key
                                  AND o.state = 0 AND o.locked_until > $now)
                  AND m.session_key NOT IN (SELECT value FROM json_each($busy))
                ORDER BY m.visible_at, m.seq LIMIT 1
                """);
            while (true)
            {
                Bind(select, ("$queue", queue), ("$now", now), ("$busy", busy));
                long seq;
                int deliveries;
                string body;
                string messageId;
                using (var reader = select.ExecuteReader())
                {
                    if (!reader.Read())
                    {
                        return (ReceivedMessage?)null;
                    }

                    seq = reader.GetInt64(0);
                    deliveries = reader.GetInt32(1);
                    body = reader.GetString(2);
                    messageId = reader.GetString(3);
                }

                if (deliveries >= _options.MaxDeliveryCount)
                {
                    // Delivered this often and never settled: it likely kills whatever processes it.
                    DeadLetterRow(connection, seq, "MaxDeliveryCountExceeded",
                        $"Delivered {deliveries} times without being completed.", now);
                    _logger.LogWarning("Dead-lettered {MessageId} on {Queue}: delivered {Count} times without completion", messageId, queue, deliveries);
                    continue;
                }

                ChangeMessage message;
                try
                {
                    message = ChangeMessageJson.Deserialize(body);
                }
                catch (FormatException ex)
                {
                    DeadLetterRow(connection, seq, "MalformedMessage", ex.Message, now);
                    continue;
                }

                var token = Guid.NewGuid().ToString("N");
                var lockCommand = Command(connection, "receive-lock",
                    "UPDATE messages SET lock_token = $token, locked_until = $until, delivery_count = delivery_count + 1 WHERE seq = $seq");
                Bind(lockCommand, ("$token", token), ("$until", now + (long)_options.VisibilityTimeout.TotalMilliseconds), ("$seq", seq));
                lockCommand.ExecuteNonQuery();
                return new ReceivedMessage(seq, queue, token, deliveries + 1, message) { ReceivedAt = DateTimeOffset.FromUnixTimeMilliseconds(now) };
            }
        }, cancellationToken);
    }

    /// <summary>Removes a processed message. Throws <see cref="MessageLockLostException"/> if its lock had expired and it was taken again.</summary>
    public Task CompleteAsync(ReceivedMessage received, CancellationToken cancellationToken = default) =>
        SettleAsync(received, "DELETE FROM messages WHERE seq = $seq AND lock_token = $token", [], cancellationToken);

    /// <summary>
    /// Removes a processed message and, with <paramref name="coalesceEarlier"/>, the messages of its kind about the same
    /// object that were already waiting when it was received (see <see cref="MessageCoalescing"/>). Returns how many of
    /// those went with it. Throws <see cref="MessageLockLostException"/> if its lock had expired and it was taken again.
    /// </summary>
    public async Task<int> CompleteAsync(ReceivedMessage received, bool coalesceEarlier, CancellationToken cancellationToken = default)
    {
        var removed = await ExecuteAsync(connection =>
        {
            var complete = Command(connection, "complete", "DELETE FROM messages WHERE seq = $seq AND lock_token = $token");
            Bind(complete, ("$seq", received.Sequence), ("$token", received.LockToken));
            if (complete.ExecuteNonQuery() == 0)
            {
                return -1;
            }

            if (!coalesceEarlier)
            {
                return 0;
            }

            var coalesce = Command(connection, "coalesce", """
                DELETE FROM messages WHERE queue = $queue AND session_key = $session AND kind = $kind AND state = 0
                  AND lock_token IS NULL AND visible_at <= $received AND enqueued_at <= $received
                """);
            Bind(coalesce, ("$queue", received.Queue), ("$session", received.Message.SessionKey), ("$kind", received.Message.Kind),
                ("$received", received.ReceivedAt.ToUnixTimeMilliseconds()));
            return coalesce.ExecuteNonQuery();
        }, cancellationToken);
        Signal(received.Queue).Set();
        return removed >= 0 ? removed : throw new MessageLockLostException(received.LockToken);
    }

    /// <summary>Releases a message to be delivered again at <paramref name="visibleAt"/>, carrying its next attempt number.</summary>
    public Task RescheduleAsync(ReceivedMessage received, DateTimeOffset visibleAt, int nextAttempt, CancellationToken cancellationToken = default) =>
        RescheduleAsync(received, visibleAt, nextAttempt, waitsFor: null, cancellationToken);

    /// <summary>Gives the message back at once (e.g. on shutdown) without counting it as an attempt.</summary>
    public Task AbandonAsync(ReceivedMessage received, CancellationToken cancellationToken = default) =>
        SettleAsync(received, "UPDATE messages SET lock_token = NULL, locked_until = NULL WHERE seq = $seq AND lock_token = $token", [], cancellationToken);

    public Task DeadLetterAsync(ReceivedMessage received, string reason, string? description, CancellationToken cancellationToken = default) =>
        SettleAsync(received,
            "UPDATE messages SET state = 1, lock_token = NULL, locked_until = NULL, dead_letter_reason = $reason, dead_letter_description = $description, dead_lettered_at = $now WHERE seq = $seq AND lock_token = $token",
            [("$reason", reason), ("$description", description), ("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds())], cancellationToken);

    /// <summary>Keeps a long-running message hidden for another visibility timeout.</summary>
    public Task RenewLockAsync(ReceivedMessage received, CancellationToken cancellationToken = default) =>
        SettleAsync(received, "UPDATE messages SET locked_until = $until WHERE seq = $seq AND lock_token = $token",
            [("$until", _clock.GetUtcNow().ToUnixTimeMilliseconds() + (long)_options.VisibilityTimeout.TotalMilliseconds)], cancellationToken);

    private async Task SettleAsync(ReceivedMessage received, string sql, (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        var changed = await ExecuteAsync(connection =>
        {
            var command = Command(connection, sql, sql);
            Bind(command, [("$seq", received.Sequence), ("$token", received.LockToken), .. parameters]);
            return command.ExecuteNonQuery();
        }, cancellationToken);
        if (changed == 0)
        {
            throw new MessageLockLostException(received.LockToken);
        }

        Signal(received.Queue).Set();
    }

    // ---- Waiting for work --------------------------------------------------------------------------------------

    /// <summary>
    /// Returns when the queue may have work: at once when a message is sent in this process, else when the next scheduled
    /// message or expired lock is due, else after <paramref name="maxWait"/>. Consumers never sleep on a fixed poll
    /// interval while work arrives.
    /// </summary>
    public Task WaitForWorkAsync(string queue, TimeSpan maxWait, CancellationToken cancellationToken) =>
        WaitForWorkAsync(queue, [], maxWait, cancellationToken);

    /// <summary>As <see cref="WaitForWorkAsync(string, TimeSpan, CancellationToken)"/>; messages of <paramref name="busySessions"/> wait for their holder's signal.</summary>
    public async Task WaitForWorkAsync(string queue, IReadOnlyCollection<string> busySessions, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var signal = Signal(queue);
        var wake = signal.WaitAsync();
        var due = await NextDueAsync(queue, busySessions, cancellationToken);
        var wait = maxWait;
        if (due is { } at)
        {
            var untilDue = at - _clock.GetUtcNow();
            if (untilDue <= TimeSpan.Zero)
            {
                return;
            }

            wait = untilDue < wait ? untilDue : wait;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(wait, _clock, cts.Token);
        await Task.WhenAny(wake, timer);
        await cts.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>When this queue next has something a receiver could take (null: nothing queued).</summary>
    internal Task<DateTimeOffset?> NextDueAsync(string queue, CancellationToken cancellationToken) => NextDueAsync(queue, [], cancellationToken);

    internal async Task<DateTimeOffset?> NextDueAsync(string queue, IReadOnlyCollection<string> busySessions, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        // A message whose session is busy is not due: it becomes receivable when the holder settles (which signals) or
        // its lock expires (the holder's own row gives that time). Counting it would make idle consumers spin.
        command.CommandText = """
            SELECT MIN(CASE WHEN m.locked_until IS NOT NULL AND m.locked_until > m.visible_at THEN m.locked_until ELSE m.visible_at END)
            FROM messages m
            WHERE m.queue = $queue AND m.state = 0
              AND m.session_key NOT IN (SELECT value FROM json_each($busy))
              AND NOT ((m.locked_until IS NULL OR m.locked_until <= $now)
                       AND EXISTS (SELECT 1 FROM messages o WHERE o.queue = m.queue AND o.session_key = m.session_key
                                   AND o.state = 0 AND o.locked_until > $now))
            """;
        command.Parameters.AddWithValue("$queue", queue);
        command.Parameters.AddWithValue("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$busy", BusyJson(busySessions));
        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    /// <summary>Wakes this process's consumers of <paramref name="queue"/> (e.g. a session they skipped as busy is free again).</summary>
    public void Wake(string queue) => Signal(queue).Set();

    /// <summary>Wakes this process's consumers of every queue (another process changed the queue file).</summary>
    public void WakeAll()
    {
        foreach (var queue in QueueNames.All)
        {
            Signal(queue).Set();
        }
    }

    private WorkSignal Signal(string queue) => _signals.GetOrAdd(queue, _ => new WorkSignal());

    private static string BusyJson(IReadOnlyCollection<string> sessions) =>
        sessions.Count == 0 ? "[]" : System.Text.Json.JsonSerializer.Serialize(sessions);

    /// <summary>
    /// Releases every lock, counting nothing as an attempt beyond the delivery already counted. Only the process that
    /// owns the data folder calls it, at start: the locks it finds were held by a process that died (kill -9, power
    /// loss), and their messages are delivered again at once instead of after the visibility timeout.
    /// </summary>
    public async Task<int> ReleaseLocksOfDeadProcessAsync(CancellationToken cancellationToken = default)
    {
        var released = await ExecuteAsync(connection =>
        {
            var command = Command(connection, "release-locks",
                "UPDATE messages SET lock_token = NULL, locked_until = NULL WHERE state = 0 AND lock_token IS NOT NULL");
            Bind(command);
            return command.ExecuteNonQuery();
        }, cancellationToken);
        foreach (var q in QueueNames.All)
        {
            Signal(q).Set();
        }

        return released;
    }

    // ---- Inspection and dead letters (used by the CLI, the health endpoint and tests) ----------------------------

    public async Task<IReadOnlyList<QueueStats>> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT queue,
                   SUM(CASE WHEN state = 0 AND NOT (locked_until IS NOT NULL AND locked_until > $now) AND visible_at <= $now THEN 1 ELSE 0 END),
                   SUM(CASE WHEN state = 0 AND locked_until IS NOT NULL AND locked_until > $now THEN 1 ELSE 0 END),
                   SUM(CASE WHEN state = 1 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN state = 0 AND NOT (locked_until IS NOT NULL AND locked_until > $now) AND visible_at > $now THEN 1 ELSE 0 END)
            FROM messages GROUP BY queue
            """;
        command.Parameters.AddWithValue("$now", now);
        var found = new Dictionary<string, QueueStats>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var q = reader.GetString(0);
                found[q] = new QueueStats(q, reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
            }
        }

        return QueueNames.All.Concat(found.Keys.Except(QueueNames.All))
            .Select(q => found.TryGetValue(q, out var s) ? s : new QueueStats(q, 0, 0, 0, 0))
            .ToList();
    }

    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string? queue = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT seq, queue, message_id, kind, subject_id, correlation_id, dead_letter_reason, dead_letter_description, dead_lettered_at, delivery_count
            FROM messages WHERE state = 1 AND ($queue IS NULL OR queue = $queue) ORDER BY dead_lettered_at DESC, seq DESC LIMIT $limit
            """;
        command.Parameters.AddWithValue("$queue", (object?)queue ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        var list = new List<DeadLetter>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new DeadLetter(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.IsDBNull(6) ? "" : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.IsDBNull(8) ? 0 : reader.GetInt64(8)), reader.GetInt32(9)));
        }

        return list;
    }

    /// <summary>Puts dead-lettered messages back on their queue as fresh deliveries (attempt 0). Returns how many.</summary>
    public async Task<int> ReplayDeadLettersAsync(string? queue = null, long? sequence = null, CancellationToken cancellationToken = default)
    {
        var replayed = await ExecuteAsync(connection =>
        {
            var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE messages SET state = 0, delivery_count = 0, lock_token = NULL, locked_until = NULL, visible_at = $now,
                       dead_letter_reason = NULL, dead_letter_description = NULL, dead_lettered_at = NULL,
                       body = json_set(body, '$.attempt', 0)
                WHERE state = 1 AND ($queue IS NULL OR queue = $queue) AND ($seq IS NULL OR seq = $seq)
                """;
            Bind(command, ("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds()), ("$queue", queue), ("$seq", sequence));
            return command.ExecuteNonQuery();
        }, cancellationToken);
        foreach (var q in QueueNames.All)
        {
            Signal(q).Set();
        }

        return replayed;
    }

    // ---- The writer loop ---------------------------------------------------------------------------------------

    private async Task<T> ExecuteAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var operation = new WriteOperation(connection => work(connection));
        ObjectDisposedException.ThrowIf(!_writes.Writer.TryWrite(operation), this);

        // Cancelling withdraws the write only while it has not started; once it ran, the caller gets its real outcome
        // (awaited directly: its own exception, never an AggregateException).
        await using (cancellationToken.Register(() => operation.TryWithdraw(cancellationToken)))
        {
            return (T)(await operation.Completion.Task)!;
        }
    }

    private async Task RunWriterAsync()
    {
        var batch = new List<WriteOperation>(_options.MaxBatch);
        var reader = _writes.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatch && reader.TryRead(out var op))
            {
                batch.Add(op);
            }

            var results = new object?[batch.Count];
            var errors = new Exception?[batch.Count];
            try
            {
                // Plain SQL transaction control: cached commands then never hold a stale SqliteTransaction.
                Exec(_writer, "BEGIN IMMEDIATE");
                for (var i = 0; i < batch.Count; i++)
                {
                    if (!batch[i].TryStart())
                    {
                        continue; // withdrawn by its caller: its task is already cancelled
                    }

                    // A savepoint per operation: one failing write does not undo the others in its batch.
                    Exec(_writer, "SAVEPOINT op");
                    try
                    {
                        results[i] = batch[i].Work(_writer);
                        Exec(_writer, "RELEASE op");
                    }
                    catch (Exception ex)
                    {
                        Exec(_writer, "ROLLBACK TO op");
                        Exec(_writer, "RELEASE op");
                        errors[i] = ex;
                    }
                }

                Exec(_writer, "COMMIT");
            }
            catch (Exception ex)
            {
                TryRollback();
                _logger.LogError(ex, "Queue transaction of {Count} writes failed", batch.Count);
                foreach (var op in batch)
                {
                    op.Completion.TrySetException(ex);
                }

                continue;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                if (errors[i] is { } error)
                {
                    batch[i].Completion.TrySetException(error);
                }
                else
                {
                    batch[i].Completion.TrySetResult(results[i]);
                }
            }
        }
    }

    private void TryRollback()
    {
        try
        {
            Exec(_writer, "ROLLBACK");
        }
        catch (SqliteException)
        {
            // No transaction was open.
        }
    }

    private sealed record WriteOperation(Func<SqliteConnection, object?> Work)
    {
        private const int Pending = 0, Started = 1, Withdrawn = 2;
        private int _state;

        public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The writer claims the operation; false when its caller withdrew it first.</summary>
        public bool TryStart() => Interlocked.CompareExchange(ref _state, Started, Pending) == Pending;

        public void TryWithdraw(CancellationToken cancellationToken)
        {
            if (Interlocked.CompareExchange(ref _state, Withdrawn, Pending) == Pending)
            {
                Completion.TrySetCanceled(cancellationToken);
            }
        }
    }

    // ---- Plumbing ----------------------------------------------------------------------------------------------

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // FULL: a committed send survives power loss, not just a process crash; group commit keeps it affordable.
        Exec(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;");
        return connection;
    }

    private static void CreateSchema(SqliteConnection connection) => Exec(connection, """
        CREATE TABLE IF NOT EXISTS messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            queue TEXT NOT NULL,
            message_id TEXT NOT NULL,
            session_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            correlation_id TEXT NOT NULL,
            body TEXT NOT NULL,
            enqueued_at INTEGER NOT NULL,
            visible_at INTEGER NOT NULL,
            delivery_count INTEGER NOT NULL DEFAULT 0,
            lock_token TEXT,
            locked_until INTEGER,
            state INTEGER NOT NULL DEFAULT 0,
            dead_letter_reason TEXT,
            dead_letter_description TEXT,
            dead_lettered_at INTEGER);
        CREATE INDEX IF NOT EXISTS ix_messages_ready ON messages(queue, state, visible_at, seq);
        CREATE INDEX IF NOT EXISTS ix_messages_session ON messages(queue, session_key, state, locked_until);
        CREATE TABLE IF NOT EXISTS dedupe (
            queue TEXT NOT NULL,
            message_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (queue, message_id)) WITHOUT ROWID;
        """);

    private SqliteCommand Command(SqliteConnection connection, string key, string sql)
    {
        if (!ReferenceEquals(connection, _writer))
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            return command;
        }

        if (!_commands.TryGetValue(key, out var cached))
        {
            cached = connection.CreateCommand();
            cached.CommandText = sql;
            _commands[key] = cached;
        }

        return cached;
    }

    private static void Bind(SqliteCommand command, params (string Name, object? Value)[] parameters)
    {
        command.Parameters.Clear();
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }

    private void DeadLetterRow(SqliteConnection connection, long seq, string reason, string description, long now)
    {
        var command = Command(connection, "dead-letter-row",
            "UPDATE messages SET state = 1, lock_token = NULL, locked_until = NULL, dead_letter_reason = $reason, dead_letter_description = $description, dead_lettered_at = $now WHERE seq = $seq");
        Bind(command, ("$reason", reason), ("$description", description), ("$now", now), ("$seq", seq));
        command.ExecuteNonQuery();
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static void QueueNameCheck(string queue)
    {
        if (string.IsNullOrWhiteSpace(queue) || queue.Length > 260)
        {
            throw new ArgumentException("A queue name is required.", nameof(queue));
        }
    }

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

    /// <summary>An auto-reset signal consumers await; set on every send in this process.</summary>
    private sealed class WorkSignal
    {
        private TaskCompletionSource _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WaitAsync() => Volatile.Read(ref _source).Task;

        public void Set() => Interlocked.Exchange(ref _source, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
