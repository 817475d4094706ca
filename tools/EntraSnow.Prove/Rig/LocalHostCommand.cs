using System.Diagnostics;

namespace EntraSnow.Prove.Rig;

/// <summary>A local host CLI command (<c>deadletters replay</c>, say) run to its end as a child process, with the host's settings.</summary>
internal static class LocalHostCommand
{
    public sealed record Outcome(int ExitCode, string Output, TimeSpan Took);

    public static async Task<Outcome> RunAsync(IReadOnlyDictionary<string, string?> settings, string workingFolder, params string[] command)
    {
        var info = ChildLocalHost.StartInfo(settings, workingFolder, command);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the local host command.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Outcome(process.ExitCode, await output + await errors, watch.Elapsed);
    }
}
