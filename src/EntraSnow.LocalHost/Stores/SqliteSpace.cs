using Microsoft.Data.Sqlite;

namespace EntraSnow.LocalHost.Stores;

/// <summary>
/// Gives the space of deleted rows back to the disk. SQLite keeps freed pages inside the file unless the file is in
/// incremental auto-vacuum mode; then <c>PRAGMA incremental_vacuum</c> releases them, a few hundred pages per short write,
/// so the host's writers wait milliseconds, never the length of a full VACUUM.
/// </summary>
internal static class SqliteSpace
{
    private const int PagesPerStep = 256;

    /// <summary>
    /// Puts the file in incremental auto-vacuum mode before its tables are created. A file made by an earlier version
    /// (no auto-vacuum) is converted once, by one VACUUM at start-up.
    /// </summary>
    public static void UseIncrementalVacuum(SqliteConnection connection)
    {
        if (Scalar(connection, "PRAGMA auto_vacuum") == 2)
        {
            return;
        }

        Exec(connection, "PRAGMA auto_vacuum = INCREMENTAL");
        if (Scalar(connection, "SELECT count(*) FROM sqlite_master") > 0)
        {
            Exec(connection, "VACUUM");
        }
    }

    /// <summary>Releases one step of free pages; returns how many pages were released (0 when none are left).</summary>
    public static long ReleaseStep(SqliteConnection connection)
    {
        var before = Scalar(connection, "PRAGMA freelist_count");
        if (before == 0)
        {
            return 0;
        }

        Exec(connection, $"PRAGMA incremental_vacuum({PagesPerStep})");
        return before - Scalar(connection, "PRAGMA freelist_count");
    }

    /// <summary>Releases every free page of the file at <paramref name="path"/>, step by step, and empties its write-ahead log.</summary>
    public static async Task<long> ReclaimAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        Exec(connection, "PRAGMA busy_timeout = 30000");
        long released = 0;
        while (!cancellationToken.IsCancellationRequested && ReleaseStep(connection) is var step and > 0)
        {
            released += step;
        }

        TruncateLog(connection);
        return released;
    }

    /// <summary>Moves the write-ahead log into the file and truncates it; best effort (a reader in the middle keeps it).</summary>
    public static void TruncateLog(SqliteConnection connection) => Exec(connection, "PRAGMA wal_checkpoint(TRUNCATE)");

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
