using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.FullSync;

/// <summary>
/// The initial cycle and drift repair (Graph sends no <c>missed</c> events for users and groups). Walks users
/// delta a few pages per queued message (<c>user.sync-page</c>, so no function invocation carries the whole walk) and
/// compares them, <see cref="ProvisioningOptions.FullSyncChunkSize"/> users at a time, with their sys_user records
/// (<see cref="UserChunkComparison"/>): unchanged users are logged, the others are noted, and after the last step they
/// fan out as one <c>user.sync</c> each, managers first, a slice per queued step kept a slice ahead of the consumers, so
/// every consumer (every Functions instance) shares the work and the queue never holds the whole tenant; then one groups
/// delta run. Message ids are stable per run, step and user, and a step already done is never
/// done again, so a restart re-queues nothing twice and creates no duplicate.
/// Use: <c>var runId = await sync.StartAsync(); … await sync.GetProgressAsync(runId)</c>, or <see cref="RunAsync"/>.
/// </summary>
public sealed partial class FullSyncRunner(
    IDirectory directory,
    IServiceNowTable serviceNow,
    UserChunkComparison comparison,
    IMessageQueue queue,
    ICheckpointStore checkpoints,
    IProvisioningLog log,
    IOptions<ProvisioningOptions> options,
    TimeProvider clock,
    ILogger<FullSyncRunner> logger)
{
    public const string CurrentRunKey = "fullsync:current";
    public const string UsersDeltaLinkKey = "delta:users";

    private readonly UserAdoption _adoption = new(options.Value);

    internal const string RunKeyPrefix = "fullsync:run:";

    internal static string RunKey(string runId) => $"{RunKeyPrefix}{runId}";

    internal static string GroupsDoneKey(string runId) => $"fullsync:run:{runId}:groups";

    /// <summary>
    /// Starts a run (or resumes the unfinished one) and returns its id at once: the run drives itself through the queues
    /// (steps through users delta, then the users that differ, then the groups delta run, which completes the run), so nobody
    /// has to stay and watch (a timer function returns at once; a killed host resumes from its queue).
    /// </summary>
    public async Task<string> StartAsync(bool fromScratch = true, CancellationToken cancellationToken = default)
    {
        var state = await ResumableRunAsync(cancellationToken);
        if (state is not null)
        {
            logger.LogInformation("Resuming full sync {RunId} started at {StartedAt}", state.RunId, state.StartedAt);
            if (state.Phase != SyncPhase.QueuingUsers)
            {
                return state.RunId;
            }
        }
        else
        {
            var now = clock.GetUtcNow();
            state = new SyncRunState
            {
                RunId = $"sync-{now:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..8]}",
                StartedAt = now,
                FromScratch = fromScratch,
                Phase = SyncPhase.QueuingUsers,
            };
            await SaveAsync(state, cancellationToken);
            await checkpoints.SetAsync(CurrentRunKey, state.RunId, cancellationToken);
            logger.LogInformation("Full sync {RunId} started ({Mode})", state.RunId, fromScratch ? "from scratch" : "from the stored delta link");
        }

        // The page the walk is at: a duplicate of a message still queued is recognised by its page number.
        await queue.SendAsync(QueueNames.UserChanges, [PageMessage(state)], cancellationToken);
        return state.RunId;
    }

    /// <summary>
    /// Queues again the page a run interrupted while walking users delta is at (a no-op when its message survived: the
    /// page number tells a duplicate). Returns the run's id, or null when no run was interrupted there. Hosts call it
    /// at start.
    /// </summary>
    public async Task<string?> ResumeInterruptedAsync(CancellationToken cancellationToken = default)
    {
        var state = await ResumableRunAsync(cancellationToken);
        return state is { Phase: SyncPhase.QueuingUsers } ? await StartAsync(state.FromScratch, cancellationToken) : null;
    }

    /// <summary>Progress of a run, or null for an unknown run id.</summary>
    public async Task<SyncProgress?> GetProgressAsync(string runId, CancellationToken cancellationToken = default)
    {
        var state = await LoadAsync(runId, cancellationToken);
        if (state is null)
        {
            return null;
        }

        var summary = await log.GetSummaryAsync(runId, cancellationToken);
        var groupsDone = await checkpoints.GetAsync(GroupsDoneKey(runId), cancellationToken) is not null;
        var phase = state.Phase switch
        {
            SyncPhase.Completed => state.Phase,
            SyncPhase.QueuingUsers when state.WalkPages is null => state.Phase,
            // While the fan-out queues its slices, the consumers are provisioning the users already queued.
            SyncPhase.QueuingUsers => SyncPhase.ProvisioningUsers,
            _ when summary.Users.Total >= state.UsersQueued => SyncPhase.ProvisioningGroups,
            _ => SyncPhase.ProvisioningUsers,
        };
        return new SyncProgress(runId, phase, state.UsersQueued, summary.Users.Total, groupsDone, summary,
            state.StartedAt, state.CompletedAt, state.TimedOut);
    }

    /// <summary>
    /// The run in progress, else the one started last (what an operator wants to see: is a sync running, and how did the
    /// last one end); null before the first run or once retention has removed every run record.
    /// </summary>
    public async Task<SyncProgress?> GetLatestProgressAsync(CancellationToken cancellationToken = default)
    {
        var runId = await checkpoints.GetAsync(CurrentRunKey, cancellationToken);
        if (runId is null)
        {
            SyncRunState? latest = null;
            await foreach (var stored in checkpoints.ListAsync(RunKeyPrefix, cancellationToken))
            {
                if (stored.Key.EndsWith(":groups", StringComparison.Ordinal))
                {
                    continue;
                }

                var state = JsonSerializer.Deserialize<SyncRunState>(stored.Value, JsonOptions);
                if (state is not null && (latest is null || state.StartedAt > latest.StartedAt))
                {
                    latest = state;
                }
            }

            runId = latest?.RunId;
        }

        return runId is null ? null : await GetProgressAsync(runId, cancellationToken);
    }

    /// <summary>Follows a started run until it completes (or <see cref="ProvisioningOptions.FullSyncMaxWait"/> passes), reporting progress.</summary>
    public async Task<SyncProgress> WaitAsync(string runId, IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var deadline = clock.GetUtcNow() + settings.FullSyncMaxWait;
        while (true)
        {
            var current = await GetProgressAsync(runId, cancellationToken) ?? throw new ArgumentException($"No full sync run '{runId}'.", nameof(runId));
            if (current.Phase == SyncPhase.Completed)
            {
                progress?.Report(current);
                return current;
            }

            if (clock.GetUtcNow() >= deadline)
            {
                // The run goes on in the queues; this caller stops watching.
                current = current with { TimedOut = true };
                progress?.Report(current);
                return current;
            }

            progress?.Report(current);
            await Task.Delay(settings.FullSyncPollInterval, clock, cancellationToken);
        }
    }

    /// <summary>Start (or resume) a run and follow it to the end.</summary>
    public async Task<SyncProgress> RunAsync(IProgress<SyncProgress>? progress = null, bool fromScratch = true, CancellationToken cancellationToken = default)
    {
        var runId = await StartAsync(fromScratch, cancellationToken);
        return await WaitAsync(runId, progress, cancellationToken);
    }

    /// <summary>
    /// Whether the run's groups may go: every queued user is accounted for in the provisioning log, or half the
    /// patience has passed (memberships of users still to come are then picked up by follow-ups).
    /// </summary>
    /// <summary>How long the groups run waits before it looks at the users' progress again.</summary>
    internal TimeSpan GroupsRecheckDelay => options.Value.FullSyncPollInterval * 4;

    internal async Task<bool> UsersSettledAsync(string runId, CancellationToken cancellationToken)
    {
        var state = await LoadAsync(runId, cancellationToken);
        if (state is null || state.Phase == SyncPhase.Completed)
        {
            return true;
        }

        if (state.Phase == SyncPhase.QueuingUsers)
        {
            return false;
        }

        var summary = await log.GetSummaryAsync(runId, cancellationToken);
        return summary.Users.Total >= state.UsersQueued || clock.GetUtcNow() >= state.StartedAt + options.Value.FullSyncMaxWait / 2;
    }

    /// <summary>Marks the run complete (the groups delta run calls this when it is done) and logs its summary.</summary>
    internal async Task CompleteAsync(string runId, CancellationToken cancellationToken)
    {
        var state = await LoadAsync(runId, cancellationToken);
        if (state is null || state.Phase == SyncPhase.Completed)
        {
            return;
        }

        await SaveAsync(state with { Phase = SyncPhase.Completed, CompletedAt = clock.GetUtcNow() }, cancellationToken);
        if (await checkpoints.GetAsync(CurrentRunKey, cancellationToken) == runId)
        {
            await checkpoints.DeleteAsync(CurrentRunKey, cancellationToken);
        }

        LogSummary((await GetProgressAsync(runId, cancellationToken))!);
    }

    private async Task<SyncRunState?> ResumableRunAsync(CancellationToken cancellationToken)
    {
        var current = await checkpoints.GetAsync(CurrentRunKey, cancellationToken);
        if (current is null)
        {
            return null;
        }

        // A run that never completed (its groups message dead-lettered, say) is not resumed for ever: past the
        // patience a new run starts, and repairs whatever the old one left.
        var state = await LoadAsync(current, cancellationToken);
        return state is { Phase: not SyncPhase.Completed } && clock.GetUtcNow() < state.StartedAt + options.Value.FullSyncMaxWait
            ? state
            : null;
    }

    /// <summary>Users ordered by their depth in the management chain (top first), stable within a level.</summary>
    internal static List<string> ManagersFirst(IReadOnlyDictionary<string, string?> managerOf)
    {
        var depth = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        int DepthOf(string id)
        {
            var chain = new List<string>();
            var current = id;
            var known = 0;
            while (true)
            {
                if (depth.TryGetValue(current, out known))
                {
                    break;
                }

                // A manager outside this run, or a cycle in bad data, ends the chain.
                if (managerOf.GetValueOrDefault(current) is not { } manager || !managerOf.ContainsKey(manager) || chain.Contains(manager, StringComparer.OrdinalIgnoreCase) || manager == id)
                {
                    chain.Add(current);
                    known = -1;
                    break;
                }

                chain.Add(current);
                current = manager;
            }

            for (var i = chain.Count - 1; i >= 0; i--)
            {
                depth[chain[i]] = ++known;
            }

            return depth[id];
        }

        return managerOf.Keys.Select((id, index) => (id, index, depth: DepthOf(id)))
            .OrderBy(x => x.depth).ThenBy(x => x.index).Select(x => x.id).ToList();
    }

    private Task QueueGroupsAsync(SyncRunState state, CancellationToken cancellationToken) =>
        queue.SendAsync(QueueNames.GroupChanges,
        [
            new ChangeMessage
            {
                MessageId = $"group.delta-resync:{state.RunId}",
                SessionKey = GroupChangesHandler.DeltaSessionKey,
                Kind = MessageKinds.GroupDeltaResync,
                TenantId = options.Value.TenantId,
                SubjectId = "groups",
                ChangedAt = clock.GetUtcNow(),
                CorrelationId = state.RunId,
                Properties = new Dictionary<string, string>
                {
                    [ProvisioningMessageProperties.SyncRun] = state.RunId,
                    [ProvisioningMessageProperties.FromScratch] = state.FromScratch ? "true" : "false",
                },
            },
        ], cancellationToken);

    /// <summary>What a user's <c>user.sync</c> carries besides the run (kept in the run's plan until the message is sent).</summary>
    /// <param name="absent">For a user with no sys_user carrying the object id, what adoption decided (null: undecided, the handler looks).</param>
    /// <param name="managerSysId">The manager's sys_user when the run knows it (see <see cref="ProvisioningMessageProperties.ManagerSysId"/>).</param>
    private static Dictionary<string, string>? UserSyncProperties(AdoptionDecision? absent, string? managerId, string? managerSysId)
    {
        var properties = new Dictionary<string, string>();
        if (managerId is not null && managerSysId is not null)
        {
            properties[ProvisioningMessageProperties.ManagerObjectId] = managerId;
            properties[ProvisioningMessageProperties.ManagerSysId] = managerSysId;
        }

        switch (absent?.Verdict)
        {
            case AdoptionVerdict.NoMatch:
                properties[ProvisioningMessageProperties.AbsentInServiceNow] = "true";
                break;
            case AdoptionVerdict.Adopt:
                properties[ProvisioningMessageProperties.AdoptSysId] = absent.SysId!;
                properties[ProvisioningMessageProperties.AdoptionReason] = absent.Reason;
                break;
            case AdoptionVerdict.Conflict:
                properties[ProvisioningMessageProperties.AdoptionConflict] = "true";
                properties[ProvisioningMessageProperties.AdoptionReason] = absent.Reason;
                if (absent.SysId is not null)
                {
                    properties[ProvisioningMessageProperties.AdoptSysId] = absent.SysId;
                }

                break;
        }

        return properties.Count == 0 ? null : properties;
    }

    /// <param name="snapshot">The user as the walk's page said it, when the run carries it (<see cref="PageSnapshot"/>).</param>
    private ChangeMessage UserSyncMessage(string runId, string userId, IReadOnlyDictionary<string, string>? properties, PageSnapshot? snapshot = null)
    {
        var all = new Dictionary<string, string>(properties ?? new Dictionary<string, string>()) { [ProvisioningMessageProperties.SyncRun] = runId };
        if (snapshot?.ToProperty() is { } json)
        {
            all[ProvisioningMessageProperties.PageSnapshot] = json;
        }

        return new()
        {
            MessageId = UserSyncMessageId(runId, userId),
            SessionKey = userId,
            Kind = MessageKinds.UserSync,
            TenantId = options.Value.TenantId,
            SubjectId = userId,
            ChangedAt = clock.GetUtcNow(),
            CorrelationId = runId,
            Properties = all,
        };
    }

    private static string UserSyncMessageId(string runId, string userId) => $"user.sync:{runId}:{userId}";

    private void LogSummary(SyncProgress final)
    {
        var u = final.Summary.Users;
        logger.LogInformation(
            "Full sync {RunId} finished in {Elapsed}: {Created} created, {Adopted} adopted, {Updated} updated, {Unchanged} unchanged, {Deactivated} deactivated, {Skipped} skipped, {Conflicts} conflicts, {Failed} failed{TimedOut}",
            final.RunId, (final.CompletedAt ?? clock.GetUtcNow()) - final.StartedAt, u.Created, u.Adopted, u.Updated, u.Unchanged, u.Deactivated, u.Skipped, u.Conflicts, u.Failed,
            final.TimedOut ? " (timed out)" : string.Empty);
    }

    private async Task<SyncRunState?> LoadAsync(string runId, CancellationToken cancellationToken)
    {
        var json = await checkpoints.GetAsync(RunKey(runId), cancellationToken);
        return json is null ? null : JsonSerializer.Deserialize<SyncRunState>(json, JsonOptions);
    }

    private Task SaveAsync(SyncRunState state, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(RunKey(state.RunId), JsonSerializer.Serialize(state, JsonOptions), cancellationToken);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
