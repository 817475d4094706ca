using EntraSnow.Flows.Messaging;
using Microsoft.Data.Sqlite;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>What the command line, the health route and the status page read, and the replay of dead letters.</summary>
public sealed partial class SqliteQueueStore
{
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
}
