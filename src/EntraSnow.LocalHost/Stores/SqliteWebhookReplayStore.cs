using EntraSnow.Flows.ServiceNowWebhooks;
using Microsoft.Data.Sqlite;

namespace EntraSnow.LocalHost.Stores;

/// <summary>
/// Webhook request ids already accepted, in a SQLite file of the local host's data folder, so a replay is refused
/// even across a restart. An id is kept until its signature could no longer pass the time window; expired ids are
/// swept as new ones arrive.
/// </summary>
/// <remarks>
/// Group commit, as the queue does: every write waiting at a moment goes into one transaction with one fsync. Each
/// request committing on its own serialised the requests behind each other's fsync and SQLite's busy waits (about
/// 100 signed webhooks/s on the shared benchmark machine, beside 3,500 Graph notifications/s).
/// The caller that finds no write under way writes the batch, and the ones that arrive meanwhile after it.
/// </remarks>
public sealed class SqliteWebhookReplayStore : IWebhookReplayStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private List<PendingWrite> _waiting = [];
    private bool _writing;
    private long _inserts;

    public SqliteWebhookReplayStore(string databasePath, TimeProvider clock)
    {
        _clock = clock;
        var full = Path.GetFullPath(databasePath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, DefaultTimeout = 30 }.ToString();
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        SqliteSpace.UseIncrementalVacuum(connection);
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS webhook_requests (request_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS webhook_requests_expiry ON webhook_requests (expires_at);
            """;
        command.ExecuteNonQuery();
    }

    public Task<bool> TryRememberAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default) =>
        WriteAsync(new PendingWrite(requestId, ExpiresAt(signedAt), Forget: false), cancellationToken);

    public Task ForgetAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default) =>
        WriteAsync(new PendingWrite(requestId, 0, Forget: true), cancellationToken);

    private async Task<bool> WriteAsync(PendingWrite write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        bool follower;
        lock (_gate)
        {
            _waiting.Add(write);
            follower = _writing;
            _writing = true;
        }

        if (follower)
        {
            return await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            List<PendingWrite> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    break;
                }

                batch = _waiting;
                _waiting = [];
            }

            // Not the caller's token: the batch holds other requests' writes too.
            await CommitAsync(batch).ConfigureAwait(false);
        }

        return await write.Done.Task.ConfigureAwait(false);
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        try
        {
            var now = _clock.GetUtcNow().ToUnixTimeSeconds();
            var results = new bool[batch.Count];
            await using (var connection = new SqliteConnection(_connectionString))
            {
                await connection.OpenAsync().ConfigureAwait(false);
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync().ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    results[i] = await ApplyAsync(connection, transaction, batch[i], now).ConfigureAwait(false);
                }

                var added = results.Where((r, i) => r && !batch[i].Forget).Count();
                if (added > 0 && (Interlocked.Add(ref _inserts, added) % 1000) < added)
                {
                    await using var sweep = connection.CreateCommand();
                    sweep.Transaction = transaction;
                    sweep.CommandText = "DELETE FROM webhook_requests WHERE expires_at < $now";
                    sweep.Parameters.AddWithValue("$now", now);
                    await sweep.ExecuteNonQueryAsync().ConfigureAwait(false);
                }

                await transaction.CommitAsync().ConfigureAwait(false);
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception ex)
        {
            foreach (var write in batch)
            {
                write.Done.TrySetException(ex);
            }
        }
    }

    private static async Task<bool> ApplyAsync(SqliteConnection connection, SqliteTransaction transaction, PendingWrite write, long now)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.Parameters.AddWithValue("$id", write.RequestId);
        if (write.Forget)
        {
            command.CommandText = "DELETE FROM webhook_requests WHERE request_id = $id";
            return await command.ExecuteNonQueryAsync().ConfigureAwait(false) > 0;
        }

        // A row whose window has passed no longer protects anything: it may be taken over.
        command.CommandText = """
            INSERT INTO webhook_requests (request_id, expires_at) VALUES ($id, $expires)
            ON CONFLICT (request_id) DO UPDATE SET expires_at = excluded.expires_at WHERE webhook_requests.expires_at < $now
            """;
        command.Parameters.AddWithValue("$expires", write.ExpiresAt);
        command.Parameters.AddWithValue("$now", now);
        return await command.ExecuteNonQueryAsync().ConfigureAwait(false) == 1;
    }

    public async Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM webhook_requests WHERE expires_at < $now";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeSeconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Past this, the request's timestamp is out of the window, so its signature alone refuses it.</summary>
    private static long ExpiresAt(DateTimeOffset signedAt) => (signedAt + ServiceNowWebhookOptions.Window).ToUnixTimeSeconds() + 1;

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private sealed record PendingWrite(string RequestId, long ExpiresAt, bool Forget)
    {
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
