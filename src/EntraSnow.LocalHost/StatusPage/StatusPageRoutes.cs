using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.ProvisioningLog;
using EntraSnow.LocalHost.Queueing;

namespace EntraSnow.LocalHost.StatusPage;

/// <summary>
/// The status page at the local host's root and the read-only JSON routes under <c>/api/local/</c> it is drawn from
/// (plus <c>/api/health</c> for the connectors). Every route reads the host's own stores; the one action, replaying a
/// dead letter, is a POST checked by <see cref="SameOriginAction"/>. Nothing here returns a setting's value.
/// </summary>
public static class StatusPageRoutes
{
    public static void AddStatusPage(IServiceCollection services)
    {
        services.AddSingleton<SubscriptionsOverview>();
        services.AddSingleton<SameOriginAction>();
    }

    public static void MapStatusPage(WebApplication app)
    {
        app.MapGet("/", () => StatusPageAssets.Serve("index.html"));
        app.MapGet("/status-page/{file}", (string file) => StatusPageAssets.Serve(file));

        app.MapGet("/api/local/status", async (SqliteQueueStore queues, FullSyncRunner sync, SandboxMode sandbox, CancellationToken ct) => Results.Ok(new
        {
            queues = (await queues.GetStatsAsync(ct)).Select(s => new { queue = s.Queue, depth = s.Depth, inFlight = s.InFlight, deadLettered = s.DeadLettered, scheduled = s.Scheduled }),
            sync = await sync.GetLatestProgressAsync(ct) is { } progress ? SyncView(progress) : null,
            sandbox = new { graph = sandbox.Graph, serviceNow = sandbox.ServiceNow, links = SandboxLinks.For(sandbox) },
        }));

        app.MapGet("/api/local/decisions", async (string? user, string? action, string? run, int? limit, SqliteProvisioningLog log, CancellationToken ct) =>
        {
            if (action is { Length: > 0 } && !Enum.TryParse<ProvisioningAction>(action, ignoreCase: true, out _))
            {
                return Results.Problem($"Unknown action '{action}'; one of {string.Join(", ", Enum.GetValues<ProvisioningAction>().Select(ProvisioningLogEntry.ActionName))}.", statusCode: 400);
            }

            var entries = await log.SearchAsync(user, action, run, Math.Clamp(limit ?? 50, 1, 500), ct);
            return Results.Ok(entries.Select(e => new
            {
                timestamp = e.Timestamp, action = ProvisioningLogEntry.ActionName(e.Action), objectKind = e.ObjectKind, subjectId = e.SubjectId,
                changedFields = e.ChangedFields, reason = e.Reason, run = e.CorrelationId, targetSysId = e.TargetSysId,
            }));
        });

        app.MapGet("/api/local/deadletters", async (string? queue, int? limit, SqliteQueueStore queues, CancellationToken ct) =>
            Results.Ok(await queues.ListDeadLettersAsync(string.IsNullOrWhiteSpace(queue) ? null : queue, Math.Clamp(limit ?? 100, 1, 1000), ct)));

        app.MapPost("/api/local/deadletters/{id:long}/replay", async (long id, HttpRequest request, SameOriginAction guard, ReplayedDeadLetters replayed, CancellationToken ct) =>
            guard.Refusal(request) is { } refusal
                ? Results.Problem($"Refused: {refusal}.", statusCode: StatusCodes.Status403Forbidden)
                : await replayed.ReplayOneAsync(id, ct)
                    ? Results.Ok(new { replayed = 1 })
                    : Results.Problem($"No dead letter {id} (already replayed, or deleted by retention).", statusCode: StatusCodes.Status404NotFound));

        app.MapGet("/api/local/subscriptions", async (SubscriptionsOverview subscriptions, CancellationToken ct) => Results.Ok(await subscriptions.GetAsync(ct)));
    }

    private static object SyncView(SyncProgress p) => new
    {
        runId = p.RunId,
        phase = p.Phase switch
        {
            SyncPhase.QueuingUsers => "reading Entra ID",
            SyncPhase.ProvisioningUsers => "provisioning users",
            SyncPhase.ProvisioningGroups => "provisioning groups",
            _ => p.TimedOut ? "stopped waiting" : "finished",
        },
        running = p.Phase != SyncPhase.Completed,
        fraction = p.Fraction,
        usersQueued = p.UsersQueued,
        usersDone = p.UsersDone,
        groupsDone = p.GroupsDone,
        startedAt = p.StartedAt,
        completedAt = p.CompletedAt,
        users = p.Summary.Users,
        groups = p.Summary.Groups,
        failures = p.Summary.Failures.Count,
        conflicts = p.Summary.Conflicts?.Count ?? 0,
    };
}
