using EntraSnow.LocalHost.ProvisioningLog;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>Settings under <c>Sandbox:Console</c>: what the console shows in sandbox mode.</summary>
public sealed class SandboxConsoleOptions
{
    public const string Section = "Sandbox:Console";

    /// <summary>
    /// false (the default): one summary line per batch of provisioning decisions instead of a line per user or group;
    /// true brings the per-object lines back (and no summary).
    /// </summary>
    public bool LinePerUser { get; set; }
}

/// <summary>Where the sandbox banner is written: the process's console; a test brings its own writer.</summary>
public sealed class SandboxConsoleOutput(TextWriter writer)
{
    public TextWriter Writer { get; } = writer;
}

/// <summary>
/// The console of a sandbox run: a banner once the host listens (where the status page and the emulators are, their
/// credentials, three things to try), then, unless <see cref="SandboxConsoleOptions.LinePerUser"/>, one line per batch
/// of provisioning decisions: what was decided in the last <see cref="BatchWindow"/>, read from the provisioning log, so
/// a sync of thousands of users reads as a few lines that still add up.
/// </summary>
internal sealed class SandboxConsole(
    SandboxMode sandbox,
    SandboxConsoleOutput output,
    SqliteProvisioningLog log,
    IOptions<SandboxConsoleOptions> options,
    IConfiguration configuration,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<SandboxConsole> logger) : BackgroundService
{
    public static readonly TimeSpan BatchWindow = TimeSpan.FromSeconds(2);

    /// <summary>The categories whose per-object information lines the summary replaces on the console (warnings still show).</summary>
    public static readonly string[] PerObjectCategories =
    [
        "EntraSnow.Flows.Provisioning.ProvisionUserHandler",
        "EntraSnow.Flows.Groups.GroupChangesHandler",
    ];

    /// <summary>Keeps the per-object lines off the console unless they were asked for; the provisioning log keeps every decision.</summary>
    public static void ConfigureLogging(ILoggingBuilder logging, SandboxMode sandbox, IConfiguration configuration)
    {
        var settings = configuration.GetSection(SandboxConsoleOptions.Section).Get<SandboxConsoleOptions>() ?? new SandboxConsoleOptions();
        if (!sandbox.Any || settings.LinePerUser)
        {
            return;
        }

        foreach (var category in PerObjectCategories)
        {
            logging.AddFilter<ConsoleLoggerProvider>(category, LogLevel.Warning);
        }
    }

    /// <summary>Registers the banner and the summary lines: for <c>serve</c> in sandbox mode only (not for one-off commands).</summary>
    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SandboxConsoleOptions>().Bind(configuration.GetSection(SandboxConsoleOptions.Section));
        services.TryAddSingleton(new SandboxConsoleOutput(Console.Out));
        services.AddHostedService<SandboxConsole>();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Decisions already in the log are not this run's: count from here, before the first run's sync can start.
        var after = (await log.CountSinceAsync(0, stoppingToken)).LastId;
        await SandboxFirstRun.WaitForStartAsync(lifetime, stoppingToken);
        await output.Writer.WriteAsync(SandboxBanner.Text(sandbox, configuration, options.Value));
        await output.Writer.FlushAsync(stoppingToken);
        if (options.Value.LinePerUser)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(BatchWindow, clock, stoppingToken);
            var batch = await log.CountSinceAsync(after, stoppingToken);
            after = batch.LastId;
            if (SummaryLine(batch.Counts) is { } line)
            {
                var troubled = batch.Counts.Any(c => c.Action is "failed" or "conflict");
                logger.Log(troubled ? LogLevel.Warning : LogLevel.Information, "{Summary} (each one: `log`, or {StatusPage})", line, sandbox.SelfUrl + "/");
            }
        }
    }

    /// <summary>e.g. "users: 20 created, 3 updated; groups: 5 created", or null for an empty batch.</summary>
    internal static string? SummaryLine(IReadOnlyList<DecisionCount> counts)
    {
        if (counts.Count == 0)
        {
            return null;
        }

        var parts = counts.GroupBy(c => c.ObjectKind, StringComparer.Ordinal).OrderByDescending(g => g.Key == "user").ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}s: {string.Join(", ", g.OrderByDescending(c => c.Count).ThenBy(c => c.Action, StringComparer.Ordinal).Select(c => $"{c.Count} {c.Action}"))}");
        return string.Join("; ", parts);
    }
}
