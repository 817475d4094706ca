using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Queueing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// The local host built exactly as <c>serve</c> builds it (<see cref="LocalHostApp.Build"/>), in this process, on a
/// clock the scenario moves (<see cref="VirtualClock"/>): for faults that last an hour. Its log goes to a file; the
/// console stays the suite's.
/// </summary>
internal sealed class InProcessLocalHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LogFileProvider _log;

    private InProcessLocalHost(WebApplication app, LogFileProvider log, string baseUrl)
    {
        _app = app;
        _log = log;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string BaseUrl { get; }

    public HttpClient Client { get; }

    /// <summary>
    /// Whether the host has messages ready or in flight, read from its queue store (not /api/health, whose live probe of a
    /// connector that is down takes seconds): false when all its work waits for a due time.
    /// </summary>
    public async Task<bool> IsWorkingAsync() => (await Queues.GetStatsAsync()).Sum(q => q.Depth + q.InFlight) > 0;

    /// <summary>The host's own queue store (its clock decides what is due).</summary>
    public SqliteQueueStore Queues => _app.Services.GetRequiredService<SqliteQueueStore>();

    /// <summary>What /api/health says of the queues and pauses, read without its live probes of Graph and ServiceNow.</summary>
    public async Task<HostHealth?> HealthAsync()
    {
        var queues = await Queues.GetStatsAsync();
        var paused = Paused;
        return new HostHealth(paused.Count == 0 ? "healthy" : "degraded",
            [.. queues.Select(q => new HostHealth.QueueFigures(q.Queue, q.Depth, q.InFlight, q.DeadLettered, q.Scheduled))], paused);
    }

    /// <summary>The connectors the host has paused right now (see /api/health's <c>paused</c>).</summary>
    public IReadOnlyList<string> Paused => [.. _app.Services.GetRequiredService<MessageProcessor>().Pauses.Current.Select(p => p.Connector)];

    public static async Task<InProcessLocalHost> StartAsync(IReadOnlyDictionary<string, string?> settings, TimeProvider clock, string logPath)
    {
        var args = settings.Where(s => s.Value is not null).Select(s => $"--{s.Key}={s.Value}")
            .Append("--Logging:Console:LogLevel:Default=None")
            .ToArray();
        var log = new LogFileProvider(logPath);
        var app = LocalHostApp.Build(args, builder =>
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(clock));
            builder.Logging.AddProvider(log);
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            log.Dispose();
            throw;
        }

        return new InProcessLocalHost(app, log, settings["LocalHost:Url"]!);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await _app.StopAsync(stop.Token);
        }

        await _app.DisposeAsync();
        _log.Dispose();
    }
}
