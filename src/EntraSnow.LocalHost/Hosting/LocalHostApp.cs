using EntraSnow.Flows.Intake;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Retention;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Flows.Stores;
using EntraSnow.Http;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.StatusPage;
using EntraSnow.LocalHost.Stores;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>
/// Builds the local host: the same HTTP routes as the Functions app, SQLite queues, every consumer and timer in-process,
/// and, in sandbox mode, the Graph and ServiceNow emulators under /sandbox.
/// </summary>
public static class LocalHostApp
{
    /// <param name="serving">true for <c>serve</c>: in sandbox mode the console then shows the banner and a summary line per batch.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, bool serving = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        // An appsettings.json in the working folder (the repository root, for `dotnet run`) configures a real tenant or
        // instance; environment variables and --Key=value still win, so they are added again after it.
        builder.Configuration.AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
        configure?.Invoke(builder);

        var localOptions = builder.Configuration.GetSection(LocalHostOptions.Section).Get<LocalHostOptions>() ?? new LocalHostOptions();
        var sandbox = SandboxMode.Apply(builder.Configuration, localOptions);
        SandboxHttps.Listen(builder, sandbox, localOptions);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        SandboxConsole.ConfigureLogging(builder.Logging, sandbox, builder.Configuration);

        var services = builder.Services;
        services.AddSingleton(sandbox);
        services.AddOptions<LocalHostOptions>().Bind(builder.Configuration.GetSection(LocalHostOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SqliteQueueOptions>().Bind(builder.Configuration.GetSection(SqliteQueueOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MessagingOptions>().Bind(builder.Configuration.GetSection(MessagingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        // A test may bring its own clock (a FakeTimeProvider) through configure.
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new SqliteQueueStore(
            sp.GetRequiredService<IOptions<LocalHostOptions>>().Value.QueueDatabase,
            sp.GetRequiredService<IOptions<SqliteQueueOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SqliteQueueStore>>()));
        services.AddSingleton<IMessageQueue>(sp => sp.GetRequiredService<SqliteQueueStore>());
        // First hosted service: it owns the data folder and frees a dead process's locks before any consumer starts.
        services.AddHostedService<DataFolderOwnership>();
        services.AddSingleton<ICheckpointStore>(sp => new SqliteCheckpointStore(
            sp.GetRequiredService<IOptions<LocalHostOptions>>().Value.CheckpointDatabase, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<MessageProcessor>();
        services.AddSingleton<ReplayedDeadLetters>();
        services.AddGraphIntake(builder.Configuration);
        services.AddSingleton<GraphNotificationEndpoint>();
        services.AddSingleton<EventGridEndpoint>();
        services.AddServiceNowWebhooks(builder.Configuration);
        services.AddSingleton<IWebhookReplayStore>(sp => new SqliteWebhookReplayStore(
            sp.GetRequiredService<IOptions<LocalHostOptions>>().Value.WebhookReplayDatabase, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ServiceNowWebhookEndpoint>();
        services.AddSingleton<ConnectorProbe>();
        StatusPageRoutes.AddStatusPage(services);
        LocalHostComposition.AddFlowsAndConnectors(builder, sandbox);
        if (serving && sandbox.Any)
        {
            SandboxConsole.Add(services, builder.Configuration);
        }

        services.AddHostedService<QueueConsumerService>();
        services.AddHostedService<DuplicateDetectionExpiry>();
        services.AddSingleton<IHostDataRetention, LocalDataRetention>();
        services.AddHostedService<ScheduledJobService>();
        services.AddHostedService<InterruptedSyncResumption>();

        var app = builder.Build();
        MapRoutes(app);
        StatusPageRoutes.MapStatusPage(app);
        LocalHostComposition.MapSandbox(app, sandbox);
        return app;
    }

    public static void MapRoutes(WebApplication app)
    {
        app.MapPost("/api/graph/notifications", (HttpRequest request, GraphNotificationEndpoint endpoint, CancellationToken ct) => endpoint.HandleAsync(request, ct));
        app.MapPost("/api/graph/lifecycle", (HttpRequest request, GraphNotificationEndpoint endpoint, CancellationToken ct) => endpoint.HandleAsync(request, ct));
        app.MapMethods("/api/eventgrid/graph", [HttpMethods.Options], (HttpRequest request) => EventGridEndpoint.Handshake(request));
        app.MapPost("/api/eventgrid/graph", (HttpRequest request, EventGridEndpoint endpoint, CancellationToken ct) => endpoint.HandleAsync(request, ct));
        app.MapPost("/api/servicenow/password-reset", (HttpRequest request, ServiceNowWebhookEndpoint endpoint, CancellationToken ct) => endpoint.PasswordResetAsync(request, ct));
        app.MapPost("/api/servicenow/access-request", (HttpRequest request, ServiceNowWebhookEndpoint endpoint, CancellationToken ct) => endpoint.AccessRequestAsync(request, ct));
        app.MapPost("/api/servicenow/change-decision", (HttpRequest request, ServiceNowWebhookEndpoint endpoint, CancellationToken ct) => endpoint.ChangeDecisionAsync(request, ct));
        app.MapPost(ReplayedDeadLetters.Route, (ReplayedDeadLetters replayed) => replayed.Accept()).AddEndpointFilter<LoopbackCallersOnly>();
        app.MapPost(WorkQueuedElsewhere.Route, (SqliteQueueStore queues) => WorkQueuedElsewhere.Accept(queues)).AddEndpointFilter<LoopbackCallersOnly>();
        // The command line reads this host's queues and log where the host keeps them (a caller on this machine only).
        app.MapGet(Cli.RunningLocalHost.DataFolderRoute, (HttpContext context, IOptions<LocalHostOptions> options) =>
            context.Connection.RemoteIpAddress is { } ip && System.Net.IPAddress.IsLoopback(ip)
                ? Results.Ok(new { dataPath = Path.GetFullPath(options.Value.DataPath) })
                : Results.NotFound());
        app.MapGet("/api/health", async (SqliteQueueStore queues, SandboxMode sandbox, ConnectorProbe probe, MessageProcessor processor, CancellationToken ct) =>
        {
            var stats = await queues.GetStatsAsync(ct);
            var connectors = await probe.CachedAsync(ct);
            var paused = processor.Pauses.Current;
            return Results.Ok(new
            {
                // 200 either way: an operator reads the status; the process itself is up and queueing.
                status = connectors.All(c => c.Ok) && paused.Count == 0 ? "healthy" : "degraded",
                paused = paused.Select(p => new { connector = p.Connector, reason = p.Reason, since = p.Since, queues = p.Queues, nextProbe = p.NextProbe }),
                sandbox = new { graph = sandbox.Graph, serviceNow = sandbox.ServiceNow },
                connectors = connectors.Select(c => new { name = c.Name, emulated = c.Emulated, ok = c.Ok, detail = c.Detail }),
                queues = stats.Select(s => new { queue = s.Queue, depth = s.Depth, inFlight = s.InFlight, deadLettered = s.DeadLettered, scheduled = s.Scheduled }),
            });
        });
    }
}
