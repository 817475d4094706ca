using System.Globalization;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.Stores;
using Microsoft.Data.Sqlite;

namespace EntraSnow.LocalHost.ProvisioningLog;

/// <summary>The provisioning log in a SQLite file (WAL) of the local host's data folder.</summary>
public sealed class SqliteProvisioningLog : IProvisioningLog
{
    private readonly string _connectionString;

    public SqliteProvisioningLog(string databasePath)
    {
        var full = Path.GetFullPath(databasePath);
        DatabasePath = full;
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, DefaultTimeout = 30 }.ToString();
        using var connection = Open();
        SqliteSpace.UseIncrementalVacuum(connection);
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS provisioning_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                timestamp TEXT NOT NULL,
                correlation_id TEXT NOT NULL,
                message_id TEXT NOT NULL,
                subject_id TEXT NOT NULL,
                object_kind TEXT NOT NULL,
                action TEXT NOT NULL,
                changed_fields TEXT NOT NULL,
                reason TEXT NULL,
                target_sys_id TEXT NULL);
            CREATE INDEX IF NOT EXISTS ix_provisioning_log_correlation ON provisioning_log(correlation_id);
            CREATE INDEX IF NOT EXISTS ix_provisioning_log_subject ON provisioning_log(subject_id, id);
            CREATE INDEX IF NOT EXISTS ix_provisioning_log_timestamp ON provisioning_log(timestamp);
            """;
        command.ExecuteNonQuery();
    }

    public string DatabasePath { get; }

    public Task AppendAsync(ProvisioningLogEntry entry, CancellationToken cancellationToken = default) =>
        AppendManyAsync([entry], cancellationToken);

    /// <summary>One transaction (one flush of the log to disk) for all the entries.</summary>
    public async Task AppendManyAsync(IReadOnlyList<ProvisioningLogEntry> entries, CancellationToken cancellationToken = default)
    {
        if (entries.Count == 0)
        {
            return;
        }

        await using var connection = Open();
        await using var transaction = entries.Count > 1 ? connection.BeginTransaction() : null;
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO provisioning_log(timestamp, correlation_id, message_id, subject_id, object_kind, action, changed_fields, reason, target_sys_id)
            VALUES ($timestamp, $correlation, $message, $subject, $kind, $action, $fields, $reason, $sysId)
            """;
        foreach (var entry in entries)
        {
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$timestamp", entry.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$correlation", entry.CorrelationId);
            command.Parameters.AddWithValue("$message", entry.MessageId);
            command.Parameters.AddWithValue("$subject", entry.SubjectId);
            command.Parameters.AddWithValue("$kind", entry.ObjectKind);
            command.Parameters.AddWithValue("$action", ProvisioningLogEntry.ActionName(entry.Action));
            command.Parameters.AddWithValue("$fields", string.Join(',', entry.ChangedFields));
            command.Parameters.AddWithValue("$reason", (object?)entry.Reason ?? DBNull.Value);
            command.Parameters.AddWithValue("$sysId", (object?)entry.TargetSysId ?? DBNull.Value);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
    }

    public Task<IReadOnlyList<ProvisioningLogEntry>> GetRecentAsync(int limit, CancellationToken cancellationToken = default) =>
        QueryAsync("ORDER BY id DESC LIMIT $limit", [("$limit", limit)], cancellationToken);

    public Task<IReadOnlyList<ProvisioningLogEntry>> GetBySubjectAsync(string subjectId, int limit, CancellationToken cancellationToken = default) =>
        QueryAsync("WHERE subject_id = $subject ORDER BY id DESC LIMIT $limit", [("$subject", subjectId), ("$limit", limit)], cancellationToken);

    public Task<IReadOnlyList<ProvisioningLogEntry>> GetByCorrelationAsync(string correlationId, CancellationToken cancellationToken = default) =>
        QueryAsync("WHERE correlation_id = $correlation ORDER BY id", [("$correlation", correlationId)], cancellationToken);

    /// <summary>
    /// The latest decisions matching every filter given (the status page's filters): a user's object id, an action name
    /// (<c>created</c>, <c>failed</c>, …) and a run (the correlation id: a full sync's run id), newest first.
    /// </summary>
    public Task<IReadOnlyList<ProvisioningLogEntry>> SearchAsync(string? subjectId, string? action, string? correlationId, int limit, CancellationToken cancellationToken = default)
    {
        var terms = new List<string>();
        var parameters = new List<(string Name, object Value)> { ("$limit", limit) };
        foreach (var (column, name, value) in new[] { ("subject_id", "$subject", subjectId), ("action", "$action", action?.ToLowerInvariant()), ("correlation_id", "$correlation", correlationId) })
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                terms.Add($"{column} = {name}");
                parameters.Add((name, value.Trim()));
            }
        }

        var where = terms.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", terms) + " ";
        return QueryAsync(where + "ORDER BY id DESC LIMIT $limit", [.. parameters], cancellationToken);
    }

    /// <summary>
    /// How many decisions of each kind and action were recorded after entry <paramref name="afterId"/>, and the last
    /// entry's id (pass it back next time): the sandbox console's summary line per batch.
    /// </summary>
    public async Task<DecisionCounts> CountSinceAsync(long afterId, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(id), $after) FROM provisioning_log";
        command.Parameters.AddWithValue("$after", afterId);
        var lastId = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        command.CommandText = """
            SELECT object_kind, action, COUNT(*) FROM provisioning_log WHERE id > $after AND id <= $last
            GROUP BY object_kind, action
            """;
        command.Parameters.AddWithValue("$last", lastId);
        var counts = new List<DecisionCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add(new DecisionCount(reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
        }

        return new DecisionCounts(lastId, counts);
    }

    /// <summary>
    /// Counted in SQLite: a sync's progress is asked for several times a second, and a run of 100,000 users read into
    /// memory each time made the process's memory grow with the tenant. Each object counts once, by the entry
    /// <see cref="ProvisioningSummary.FromEntries"/> would keep (the most significant action, then the latest).
    /// </summary>
    public async Task<ProvisioningSummary> GetSummaryAsync(string correlationId, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$correlation", correlationId);
        command.CommandText = $"""
            SELECT object_kind, rank, COUNT(*) FROM (
                SELECT object_kind, MAX({RankColumn}) AS rank FROM provisioning_log WHERE correlation_id = $correlation
                GROUP BY object_kind, subject_id)
            GROUP BY object_kind, rank
            """;
        var counts = new List<(string ObjectKind, ProvisioningAction Action, int Count)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (ActionOfRank.TryGetValue(reader.GetInt32(1), out var action))
                {
                    counts.Add((reader.GetString(0), action, reader.GetInt32(2)));
                }
            }
        }

        var unwritten = new List<(string SubjectId, string ObjectKind, ProvisioningAction Action, string? Reason)>();
        if (counts.Any(c => c.Action is ProvisioningAction.Failed or ProvisioningAction.Conflict))
        {
            // The objects whose decisive entry is a failure or a conflict, with that entry's reason, oldest first.
            command.CommandText = $"""
                SELECT subject_id, object_kind, action, reason FROM (
                    SELECT subject_id, object_kind, action, reason, timestamp, id,
                        ROW_NUMBER() OVER (PARTITION BY object_kind, subject_id ORDER BY {RankColumn} DESC, timestamp DESC, id DESC) AS nth
                    FROM provisioning_log WHERE correlation_id = $correlation)
                WHERE nth = 1 AND action IN ('{ProvisioningLogEntry.ActionName(ProvisioningAction.Failed)}', '{ProvisioningLogEntry.ActionName(ProvisioningAction.Conflict)}')
                ORDER BY timestamp, id
                """;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                unwritten.Add((reader.GetString(0), reader.GetString(1), ProvisioningLogEntry.ParseAction(reader.GetString(2)),
                    reader.IsDBNull(3) ? null : reader.GetString(3)));
            }
        }

        return ProvisioningSummary.FromCounts(counts, unwritten);
    }

    /// <summary>An entry's <see cref="ProvisioningSummary.Rank"/> in SQL (each action has its own rank).</summary>
    private static readonly string RankColumn = "CASE action " + string.Concat(Enum.GetValues<ProvisioningAction>()
        .Select(a => $"WHEN '{ProvisioningLogEntry.ActionName(a)}' THEN {ProvisioningSummary.Rank(a)} ")) + "ELSE 0 END";

    private static readonly Dictionary<int, ProvisioningAction> ActionOfRank =
        Enum.GetValues<ProvisioningAction>().ToDictionary(ProvisioningSummary.Rank);

    /// <summary>
    /// Deletes entries older than <paramref name="cutoff"/> a few thousand at a time (each its own short write, so
    /// consumers appending meanwhile wait milliseconds), then gives the space back to the disk.
    /// </summary>
    public async Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var total = 0;
        await using (var connection = Open())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM provisioning_log WHERE id IN (SELECT id FROM provisioning_log WHERE timestamp < $cutoff LIMIT 5000)";
            command.Parameters.AddWithValue("$cutoff", cutoff.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            while (await command.ExecuteNonQueryAsync(cancellationToken) is var deleted and > 0)
            {
                total += deleted;
            }
        }

        if (total > 0)
        {
            await SqliteSpace.ReclaimAsync(DatabasePath, cancellationToken);
        }

        return total;
    }

    private async Task<IReadOnlyList<ProvisioningLogEntry>> QueryAsync(string clause, (string Name, object Value)[] parameters, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT timestamp, correlation_id, message_id, subject_id, object_kind, action, changed_fields, reason, target_sys_id FROM provisioning_log " + clause;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var entries = new List<ProvisioningLogEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var fields = reader.GetString(6);
            entries.Add(new ProvisioningLogEntry
            {
                Timestamp = DateTimeOffset.Parse(reader.GetString(0), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                CorrelationId = reader.GetString(1),
                MessageId = reader.GetString(2),
                SubjectId = reader.GetString(3),
                ObjectKind = reader.GetString(4),
                Action = ProvisioningLogEntry.ParseAction(reader.GetString(5)),
                ChangedFields = fields.Length == 0 ? [] : fields.Split(','),
                Reason = reader.IsDBNull(7) ? null : reader.GetString(7),
                TargetSysId = reader.IsDBNull(8) ? null : reader.GetString(8),
            });
        }

        return entries;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }
}

/// <summary>Decisions of one object kind and action.</summary>
public sealed record DecisionCount(string ObjectKind, string Action, int Count);

/// <summary>Decisions recorded after a given entry, and the last entry's id.</summary>
public sealed record DecisionCounts(long LastId, IReadOnlyList<DecisionCount> Counts);
