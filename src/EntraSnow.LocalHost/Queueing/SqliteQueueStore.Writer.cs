using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>The one writer loop (group commit) every write goes through, and the SQLite plumbing under it.</summary>
public sealed partial class SqliteQueueStore
{
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
}
