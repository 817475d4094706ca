namespace EntraSnow.Benchmarks.Hosting;

/// <summary>The machine's 1-minute load average, printed beside the figures (the machine is shared with other work).</summary>
internal static class LoadAverage
{
    /// <returns>"?" where the system has no <c>/proc/loadavg</c>.</returns>
    public static async Task<string> NowAsync(CancellationToken cancellationToken) =>
        File.Exists("/proc/loadavg") ? (await File.ReadAllTextAsync("/proc/loadavg", cancellationToken)).Split(' ')[0] : "?";

    /// <summary>The 1-, 5- and 15-minute load averages; "?" where the system has no <c>/proc/loadavg</c>.</summary>
    public static string OverTheLastMinutes() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
