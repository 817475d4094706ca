using EntraSnow.Flows.Stores;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace EntraSnow.LocalHost.Stores;

/// <summary>Checkpoints (delta links, watermarks) in a SQLite file of the local host's data folder.</summary>
public sealed class SqliteCheckpointStore : ICheckpointStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _clock;

    public SqliteCheckpointStore(string databasePath, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        var full = Path.GetFullPath(databasePath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, DefaultTimeout = 30 }.ToString();
        using var connection = Open();
        SqliteSpace.UseIncrementalVacuum(connection);
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE IF NOT EXISTS checkpoints (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL) WITHOUT ROWID";
        command.ExecuteNonQuery();
    }

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM checkpoints WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public Task SetAsync(string key, string value, CancellationToken cancellationToken = default) =>
        SetManyAsync([new KeyValuePair<string, string>(key, value)], cancellationToken);

    /// <summary>All in one transaction: one commit (and one sync to disk) for the lot, not one each.</summary>
    public async Task SetManyAsync(IReadOnlyCollection<KeyValuePair<string, string>> values, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var transaction = values.Count > 1 ? connection.BeginTransaction() : null;
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO checkpoints(key, value, updated_at) VALUES ($key, $value, $now)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """;
        var key = command.Parameters.Add("$key", SqliteType.Text);
        var value = command.Parameters.Add("$value", SqliteType.Text);
        command.Parameters.AddWithValue("$now", _clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        foreach (var pair in values)
        {
            (key.Value, value.Value) = (pair.Key, pair.Value);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM checkpoints WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async IAsyncEnumerable<StoredCheckpoint> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        // A range on the primary key rather than LIKE: keys may hold % and _, and the range uses the index.
        command.CommandText = "SELECT key, value, updated_at FROM checkpoints WHERE key >= $prefix AND key < $end ORDER BY key";
        command.Parameters.AddWithValue("$prefix", prefix);
        command.Parameters.AddWithValue("$end", prefix + '\uffff');
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new StoredCheckpoint(reader.GetString(0), reader.GetString(1),
                DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }
}
