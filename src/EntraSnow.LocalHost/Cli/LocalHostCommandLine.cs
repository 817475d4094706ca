using System.Text.Json;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Queueing;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace EntraSnow.LocalHost.Cli;

/// <summary>The local host's command line. Every command reads the same configuration as <c>serve</c> (appsettings.json, environment, --Key=value).</summary>
public static class LocalHostCommandLine
{
    public const string Usage = """
        usage: dotnet run --project src/EntraSnow.LocalHost -- [command] [options] [--Setting:Name=value ...]

        commands:
          serve                          run the local host on http://127.0.0.1:7071 (the default); in sandbox mode
                                         also https://127.0.0.1:7443 (LocalHost:SandboxHttpsUrl)
          queues [--json]                depth, in flight, dead-lettered and scheduled per queue
          deadletters [list] [--queue Q] [--json]
                                         list dead-lettered messages with their reasons
          deadletters replay [--queue Q] [--id N]
                                         put dead-lettered messages back on their queue
          sync [--from-link]             full sync of users and groups, with progress and a summary
                                         (from scratch; --from-link resumes from the stored delta link)
          sync --dry-run [--json | --csv FILE]
                                         what a full sync would create, adopt, update (old -> new),
                                         deactivate or leave and why; writes nothing
          log [--user ID] [--run ID] [--limit N] [--json]
                                         the provisioning log: every decision with its reason
          sweep [--dry-run] [--json]     the inactive-account sweep now, with progress; --dry-run prints
                                         what would be raised (a table and totals) and writes nothing
          provision <upn|object-id>      one user through provisioning now, printing each step (scope,
                                         mapping, references, match, write) and the decision
          doctor                         check configuration, credentials and permissions
          sandbox cert [--out PATH]      write the emulators' HTTPS development certificate as PEM and say how to trust it

        queues, deadletters and log read the data of the local host serving LocalHost:Url, else the data
        folder LocalHost:DataPath (./.entrasnow); --data-path PATH names the folder.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null)
    {
        output ??= Console.Out;
        var verbIndex = Array.FindIndex(args, a => !a.StartsWith('-'));
        var verb = verbIndex >= 0 ? args[verbIndex] : "serve";
        var rest = verbIndex >= 0 ? args.Where((_, i) => i != verbIndex).ToArray() : args;

        try
        {
            switch (verb)
            {
                case "serve":
                    await using (var app = LocalHostApp.Build(rest, SandboxHttps.ServeDefault, serving: true))
                    {
                        await app.RunAsync();
                    }

                    return 0;
                case "queues":
                    return await QueuesAsync(rest, output);
                case "deadletters":
                    return await DeadLettersAsync(rest, output);
                case "help" or "--help" or "-h":
                    await output.WriteLineAsync(Usage);
                    return 0;
                default:
                    if (LocalHostExtraCommands.TryGet(verb) is { } command)
                    {
                        return await command(rest, output);
                    }

                    await Console.Error.WriteLineAsync($"Unknown command '{verb}'.\n\n{Usage}");
                    return 2;
            }
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Configuration is not valid:\n  {string.Join("\n  ", ex.Failures)}");
            return 3;
        }
    }

    private static async Task<int> QueuesAsync(string[] args, TextWriter output)
    {
        var (located, error) = await CommandDataFolder.LocateAsync(args, o => o.QueueDatabase, Flag(args, "--json") ? null : output);
        if (located is null)
        {
            await output.WriteLineAsync(error);
            return CommandDataFolder.NoData;
        }

        await using var scope = await CommandScope.OpenAsync(located);
        var stats = await scope.Queues.GetStatsAsync();
        if (Flag(args, "--json"))
        {
            var json = stats.Select(s => new { queue = s.Queue, depth = s.Depth, inFlight = s.InFlight, deadLettered = s.DeadLettered, scheduled = s.Scheduled });
            await output.WriteLineAsync(JsonSerializer.Serialize(json, WebJson));
            return 0;
        }

        var table = new Table().AddColumns("queue", "depth", "in flight", "dead-lettered", "scheduled");
        foreach (var s in stats)
        {
            table.AddRow(s.Queue, s.Depth.ToString(), s.InFlight.ToString(), s.DeadLettered.ToString(), s.Scheduled.ToString());
        }

        Terminal(output).Write(table);
        return 0;
    }

    private static async Task<int> DeadLettersAsync(string[] args, TextWriter output)
    {
        var replay = args.Contains("replay");
        var queue = Option(args, "--queue");
        var (located, error) = await CommandDataFolder.LocateAsync(args.Where(a => a is not "replay" and not "list").ToArray(), o => o.QueueDatabase,
            Flag(args, "--json") ? null : output);
        if (located is null)
        {
            await output.WriteLineAsync(error);
            return CommandDataFolder.NoData;
        }

        await using var scope = await CommandScope.OpenAsync(located);
        if (replay)
        {
            long? id = Option(args, "--id") is { } text ? long.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : null;
            var count = await scope.Queues.ReplayDeadLettersAsync(queue, id);
            await output.WriteLineAsync($"Replayed {count} dead-lettered message(s){(queue is null ? "" : $" on {queue}")}.");
            if (count > 0)
            {
                var url = scope.App.Services.GetRequiredService<IOptions<LocalHostOptions>>().Value.Url;
                await output.WriteLineAsync(await RunningLocalHost.NotifyDeadLettersReplayedAsync(url)
                    ? $"The local host serving at {url} is processing them now."
                    : $"No local host answers at {url}: they are processed when one starts (`dotnet run --project src/EntraSnow.LocalHost`).");
            }

            return 0;
        }

        var letters = await scope.Queues.ListDeadLettersAsync(queue, limit: int.TryParse(Option(args, "--limit"), out var limit) ? limit : 100);
        if (Flag(args, "--json"))
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(letters, WebJson));
            return 0;
        }

        if (letters.Count == 0)
        {
            await output.WriteLineAsync("No dead-lettered messages.");
            return 0;
        }

        var table = new Table().AddColumns("id", "queue", "kind", "subject", "reason", "description", "when");
        foreach (var d in letters)
        {
            table.AddRow(d.Sequence.ToString(), d.Queue, d.Kind, d.SubjectId, Markup.Escape(d.Reason), Markup.Escape(d.Description ?? ""), d.DeadLetteredAt.ToString("u"));
        }

        Terminal(output).Write(table);
        await output.WriteLineAsync("Replay: deadletters replay [--queue Q] [--id N]");
        return 0;
    }

    /// <summary>Readable JSON for terminals and scripts (no \u0027-style escaping of quotes).</summary>
    internal static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal static bool Flag(string[] args, string name) => args.Contains(name, StringComparer.Ordinal);

    internal static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    internal static IAnsiConsole Terminal(TextWriter output) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
}

/// <summary>What a short-lived command needs: the configuration and the queue store, without starting the host.</summary>
internal sealed class CommandScope : IAsyncDisposable
{
    private CommandScope(WebApplication app) => App = app;

    public WebApplication App { get; }

    public SqliteQueueStore Queues => App.Services.GetRequiredService<SqliteQueueStore>();

    public static Task<CommandScope> OpenAsync(string[] args) =>
        Task.FromResult(new CommandScope(LocalHostApp.Build(args.Where(a => a != "--json").ToArray())));

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}
