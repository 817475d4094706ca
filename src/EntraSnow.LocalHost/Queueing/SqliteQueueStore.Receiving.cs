using EntraSnow.Flows.Messaging;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>Receiving a message under a lock, settling it, and the locks a dead process left.</summary>
public sealed partial class SqliteQueueStore
{
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
}
