using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.ProvisioningLog;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Cli;

/// <summary>Commands that belong to flows (sync, log, doctor), registered by name.</summary>
internal static class LocalHostExtraCommands
{
    public static Func<string[], TextWriter, Task<int>>? TryGet(string verb) => verb switch
    {
        "log" => LogAsync,
        "sync" => SyncAsync,
        "doctor" => DoctorCommand.RunAsync,
        "sweep" => SweepCommand.RunAsync,
        "sandbox" => SandboxCertCommand.RunAsync,
        "provision" => ProvisionCommand.RunAsync,
        _ => null,
    };

    private static async Task<int> LogAsync(string[] args, TextWriter output)
    {
        var (located, error) = await CommandDataFolder.LocateAsync(args, o => o.ProvisioningLogDatabase, LocalHostCommandLine.Flag(args, "--json") ? null : output);
        if (located is null)
        {
            await output.WriteLineAsync(error);
            return CommandDataFolder.NoData;
        }

        await using var scope = await CommandScope.OpenAsync(located);
        return await ProvisioningCommands.LogAsync(scope.App.Services.GetRequiredService<IProvisioningLog>(), args, output);
    }

    /// <summary>
    /// A full sync with a progress bar and a summary. If a local host is already serving this data folder, its consumers do
    /// the work and this command only starts the run and follows it; otherwise this command runs the host itself
    /// (consumers, and the emulators in sandbox mode) until the sync is done.
    /// </summary>
    private static async Task<int> SyncAsync(string[] args, TextWriter output)
    {
        if (LocalHostCommandLine.Flag(args, "--dry-run"))
        {
            return await SyncDryRunCommand.RunAsync(args, output);
        }

        await using var scope = await CommandScope.OpenAsync(args);
        var url = scope.App.Services.GetRequiredService<IOptions<LocalHostOptions>>().Value.Url;
        var running = await RunningLocalHost.IsServingAsync(url);
        await using var waker = running ? new ServingHostWaker(scope.App.Services.GetRequiredService<Queueing.SqliteQueueStore>(), url) : null;
        if (!running)
        {
            await scope.App.StartAsync();
        }
        else
        {
            await output.WriteLineAsync($"A local host is serving at {url}: its consumers will do the work, told of each batch as it is queued.");
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        try
        {
            return await ProvisioningCommands.SyncAsync(scope.App.Services.GetRequiredService<FullSyncRunner>(), args, output, cancel.Token);
        }
        catch (OperationCanceledException)
        {
            await output.WriteLineAsync("\nStopped following the sync; queued work stays queued and resumes with the next `serve` or `sync`.");
            return 130;
        }
        finally
        {
            if (!running)
            {
                await scope.App.StopAsync();
            }
        }
    }

}
