using EntraSnow.Flows.ServiceNowWebhooks;
using Microsoft.Data.Sqlite;

namespace EntraSnow.LocalHost.Stores;

/// <summary>
/// Webhook request ids already accepted, in a SQLite file of the local host's data folder, so a replay is refused
/// even across a restart. An id is kept until its signature could no longer pass the time window; expired ids are
/// swept as new ones arrive.
/// </summary>
public sealed class SqliteWebhookReplayStore : IWebhookReplayStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _clock;
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

    public async Task<bool> TryRememberAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default)
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // A row whose window has passed no longer protects anything: it may be taken over.
        command.CommandText = """
            INSERT INTO webhook_requests (request_id, expires_at) VALUES ($id, $expires)
            ON CONFLICT (request_id) DO UPDATE SET expires_at = excluded.expires_at WHERE webhook_requests.expires_at < $now
            """;
        command.Parameters.AddWithValue("$id", requestId);
        command.Parameters.AddWithValue("$expires", ExpiresAt(signedAt));
        command.Parameters.AddWithValue("$now", now);
        var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;

        if (added && Interlocked.Increment(ref _inserts) % 1000 == 0)
        {
            await using var sweep = connection.CreateCommand();
            sweep.CommandText = "DELETE FROM webhook_requests WHERE expires_at < $now";
            sweep.Parameters.AddWithValue("$now", now);
            await sweep.ExecuteNonQueryAsync(cancellationToken);
        }

        return added;
    }

    public async Task ForgetAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM webhook_requests WHERE request_id = $id";
        command.Parameters.AddWithValue("$id", requestId);
        await command.ExecuteNonQueryAsync(cancellationToken);
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
}
