using EntraSnow.LocalHost.Hosting;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// Where <c>queues</c>, <c>log</c> and <c>deadletters</c> read: the data folder of the local host serving
/// <c>LocalHost:Url</c> (it says where its data is), else the configured <c>LocalHost:DataPath</c> when data is there;
/// <c>--data-path PATH</c> names the folder outright. Never an empty store made up on the spot: with no host and no
/// data, the command says where it looked and how to point at the data.
/// </summary>
internal static class CommandDataFolder
{
    public const string Option = "--data-path";

    /// <summary>Exit code of a command that found no data to read.</summary>
    public const int NoData = 4;

    /// <summary>The arguments to open the command with (pointing at the folder found), or the message saying none was.</summary>
    /// <param name="dataFile">The file whose presence means the folder has this command's data (queues.db, provisioning-log.db).</param>
    public static async Task<(string[]? Args, string? Error)> LocateAsync(string[] args, Func<LocalHostOptions, string> dataFile, TextWriter? notes)
    {
        var explicitPath = LocalHostCommandLine.Option(args, Option);
        var rest = WithoutOption(args);
        if (explicitPath is not null)
        {
            var options = new LocalHostOptions { DataPath = explicitPath };
            if (!File.Exists(dataFile(options)))
            {
                return (null, $"There is no EntraSnow data at {Path.GetFullPath(explicitPath)} ({Path.GetFileName(dataFile(options))} not found). " +
                    $"Point {Option} at the folder a local host keeps its data in (its LocalHost:DataPath, ./.entrasnow in the folder it runs from).");
            }

            string[] pointed = [.. rest, $"--LocalHost:DataPath={explicitPath}"];
            return (pointed, null);
        }

        var configured = await ConfiguredAsync(rest);
        if (await RunningLocalHost.DataFolderAsync(configured.Url) is { } served)
        {
            if (notes is not null)
            {
                await notes.WriteLineAsync($"The local host serving at {configured.Url} keeps its data in {served}.");
            }

            string[] hosts = [.. rest, $"--LocalHost:DataPath={served}"];
            return (hosts, null);
        }

        if (File.Exists(dataFile(configured)))
        {
            return (rest, null);
        }

        return (null, $"No local host answers at {configured.Url}, and there is no EntraSnow data at {Path.GetFullPath(configured.DataPath)} " +
            $"({Path.GetFileName(dataFile(configured))} not found). Start the local host (`dotnet run --project src/EntraSnow.LocalHost`), " +
            $"run this command from the folder it runs in, or point at its data: {Option} PATH (or --LocalHost:Url=URL for a host on another port).");
    }

    private static async Task<LocalHostOptions> ConfiguredAsync(string[] args)
    {
        await using var scope = await CommandScope.OpenAsync(args);
        return scope.App.Services.GetRequiredService<IOptions<LocalHostOptions>>().Value;
    }

    private static string[] WithoutOption(string[] args)
    {
        var i = Array.IndexOf(args, Option);
        return i < 0 ? args : [.. args.Take(i), .. args.Skip(i + 2)];
    }
}
