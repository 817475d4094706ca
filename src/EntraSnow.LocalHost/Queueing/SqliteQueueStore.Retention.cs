using EntraSnow.LocalHost.Stores;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>Retention of the queue file: dead letters past their time, expired duplicate-detection rows, freed space.</summary>
public sealed partial class SqliteQueueStore
{
    /// <summary>Deletes the messages dead-lettered before <paramref name="before"/> (retention). Returns how many.</summary>
    public Task<int> PurgeDeadLettersAsync(DateTimeOffset before, CancellationToken cancellationToken = default) =>
        ExecuteAsync(connection =>
        {
            var command = Command(connection, "purge-dead-letters", "DELETE FROM messages WHERE state = 1 AND dead_lettered_at < $before");
            Bind(command, ("$before", before.ToUnixTimeMilliseconds()));
            return command.ExecuteNonQuery();
        }, cancellationToken);

    /// <summary>
    /// Gives the pages that deletions freed back to the disk, one short step at a time through the writer, so sends wait
    /// for a step, never for the whole reclaim. Returns how many pages were released.
    /// </summary>
    public async Task<long> ReclaimSpaceAsync(CancellationToken cancellationToken = default)
    {
        long released = 0;
        while (await ExecuteAsync(SqliteSpace.ReleaseStep, cancellationToken) is var step and > 0)
        {
            released += step;
        }

        // Outside the writer's transactions, on a connection of its own that waits a second at most for a gap in the writes.
        await using var connection = Open();
        Exec(connection, "PRAGMA busy_timeout = 1000");
        SqliteSpace.TruncateLog(connection);
        return released;
    }

    /// <summary>Forgets expired duplicate-detection entries; the local host does it every few minutes, consumers on or off.</summary>
    public Task<int> PurgeExpiredDedupeAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync(connection =>
        {
            var command = Command(connection, "purge", "DELETE FROM dedupe WHERE expires_at <= $now");
            Bind(command, ("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds()));
            return command.ExecuteNonQuery();
        }, cancellationToken);
}
