namespace EntraSnow.Benchmarks.Hosting;

/// <summary>A benchmark's own temporary data folder (SQLite queues, checkpoints, the provisioning log).</summary>
internal static class BenchFolder
{
    public static string New(string purpose) => Path.Combine(Path.GetTempPath(), "entrasnow-bench", $"{purpose}-{Guid.NewGuid():N}");

    public static void Delete(string path)
    {
        // SQLite keeps pooled connections (and their files) open until told otherwise.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Temp files left behind are harmless.
        }
    }
}
