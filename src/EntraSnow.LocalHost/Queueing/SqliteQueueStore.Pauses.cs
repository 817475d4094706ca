using EntraSnow.Flows.Messaging;
using Microsoft.Data.Sqlite;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>
/// Work held for a paused connector: each such message remembers the connector it waits for, so that when the pause
/// lifts it follows at once instead of at its next probe time, while messages waiting out a backoff or a Retry-After
/// keep their time.
/// </summary>
public sealed partial class SqliteQueueStore
{
    /// <summary>As <see cref="RescheduleAsync(ReceivedMessage, DateTimeOffset, int, CancellationToken)"/>, noting the paused connector it waits for (null: none).</summary>
    public Task RescheduleAsync(ReceivedMessage received, DateTimeOffset visibleAt, int nextAttempt, string? waitsFor, CancellationToken cancellationToken = default)
    {
        var body = ChangeMessageJson.Serialize(received.Message with { Attempt = nextAttempt });
        return SettleAsync(received,
            "UPDATE messages SET lock_token = NULL, locked_until = NULL, delivery_count = 0, visible_at = $visible, body = $body, held_by = $held WHERE seq = $seq AND lock_token = $token",
            [("$visible", visibleAt.ToUnixTimeMilliseconds()), ("$body", body), ("$held", waitsFor)], cancellationToken);
    }

    /// <summary>
    /// Makes the messages held for <paramref name="connectors"/> visible now and wakes their queues' consumers. Returns how
    /// many were released.
    /// </summary>
    public async Task<int> ReleaseHeldAsync(IReadOnlyCollection<string> connectors, CancellationToken cancellationToken = default)
    {
        if (connectors.Count == 0)
        {
            return 0;
        }

        var released = await ExecuteAsync(connection =>
        {
            var command = Command(connection, "release-held", """
                UPDATE messages SET visible_at = MIN(visible_at, $now), held_by = NULL
                WHERE state = 0 AND held_by IN (SELECT value FROM json_each($connectors))
                RETURNING queue
                """);
            Bind(command, ("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds()), ("$connectors", System.Text.Json.JsonSerializer.Serialize(connectors)));
            var queues = new List<string>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                queues.Add(reader.GetString(0));
            }

            return queues;
        }, cancellationToken);
        foreach (var queue in released.Distinct(StringComparer.Ordinal))
        {
            Signal(queue).Set();
        }

        return released.Count;
    }

    /// <summary>Queue files made before held work was marked get the column (null: not held).</summary>
    private static void AddHeldByColumn(SqliteConnection connection)
    {
        using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name = 'held_by'";
        if ((long)probe.ExecuteScalar()! == 0)
        {
            Exec(connection, "ALTER TABLE messages ADD COLUMN held_by TEXT");
        }

        Exec(connection, "CREATE INDEX IF NOT EXISTS ix_messages_held ON messages(held_by) WHERE held_by IS NOT NULL");
    }
}
