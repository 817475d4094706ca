using System.Text.Json;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.FullSync;

/// <summary>
/// After the walk: the users that differ are planned (ordered managers first, adoption decided for the whole run at
/// once) into slices of a walk step's size under the run's notes, and the fan-out's steps queue them one slice per
/// message, so the queue never holds the tenant and no invocation sends it all.
/// </summary>
public sealed partial class FullSyncRunner
{
    /// <summary>Users planned for one fan-out step: a walk step's worth.</summary>
    private int SliceSize => options.Value.FullSyncChunkSize * ChunksPerStep;

    internal static string PlanKey(string runId) => $"{WalkKey(runId)}plan:";

    private static string PlanSliceKey(string runId, int slice) => $"{PlanKey(runId)}{slice:D6}:";

    /// <summary>
    /// Plans the noted users that differ, managers first, then the orphans (active sys_users of Entra users that no
    /// longer exist, whose <c>user.sync</c> deactivates them). Reads the notes as a stream, twice, and holds only the
    /// users that differ with their managers, the sys_ids of those managers and a compact set of the ids the walk saw
    /// (for the orphans), never the notes at once. Returns every user the run accounts for, and the slices planned.
    /// </summary>
    private async Task<(int Users, int Slices)> PlanNotedUsersAsync(SyncRunState state, CancellationToken cancellationToken)
    {
        var runId = state.RunId;
        await DeletePlanAsync(runId, cancellationToken); // A plan half-written before a crash is planned again whole.
        var seen = new ObjectIdSet();
        var managers = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var absent = new Dictionary<string, IReadOnlyList<(string Field, string Value)>>(StringComparer.OrdinalIgnoreCase);
        await foreach (var noted in ReadWalkNotesAsync(runId, cancellationToken))
        {
            seen.Add(noted.Id);
            if (noted.Pending)
            {
                managers[noted.Id] = noted.ManagerId;
                if (noted.Absent)
                {
                    absent[noted.Id] = noted.Match?.Select(m => (m[0], m[1])).ToList() ?? [];
                }
            }
        }

        // Managers first: a report is then created once with its manager instead of created and patched later.
        var ordered = ManagersFirst(managers);
        // Users without a record: the existing records they would adopt, decided for the whole run at once (a record
        // two users would each take goes to neither).
        var adoptions = _adoption.Enabled && absent.Count > 0
            ? await new BatchAdoption(serviceNow, _adoption).DecideAsync(
                ordered.Where(absent.ContainsKey).ToDictionary(id => id, id => absent[id], StringComparer.OrdinalIgnoreCase), cancellationToken)
            : null;
        var absentIds = absent.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);
        absent.Clear();
        var managerSysIds = await ManagerSysIdsAsync(runId, managers, adoptions, cancellationToken);

        var plan = new PlanWriter(this, runId);
        var sliceOf = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var id in ordered)
        {
            var manager = managers[id];
            var adoption = absentIds.Contains(id) ? (adoptions is null ? AdoptionDecision.None : adoptions.GetValueOrDefault(id)) : null;
            sliceOf[id] = plan.Slice;
            await plan.AddAsync(new PlannedUser(id, UserSyncProperties(adoption, manager, manager is null ? null : managerSysIds.GetValueOrDefault(manager))), cancellationToken);
        }

        managers.Clear();
        await PlanSnapshotsAsync(runId, sliceOf, cancellationToken);
        sliceOf.Clear();

        var users = seen.Count;
        var orphans = 0;
        if (state.FullRead)
        {
            // Drift: a sys_user still active for an Entra user that no longer exists. Its user.sync deactivates it.
            var settings = options.Value;
            var query = EncodedQuery.Where(settings.ObjectIdField, "ISNOTEMPTY", string.Empty).And("active", "true");
            await foreach (var record in serviceNow.QueryAsync(ProvisionUserHandler.UserTable, query, [settings.ObjectIdField, "active"], cancellationToken))
            {
                if (record[settings.ObjectIdField] is { Length: > 0 } objectId &&
                    string.Equals(record["active"], "true", StringComparison.OrdinalIgnoreCase) && seen.Add(objectId))
                {
                    orphans++;
                    await plan.AddAsync(new PlannedUser(objectId, null), cancellationToken);
                }
            }

            if (orphans > 0)
            {
                logger.LogInformation("Full sync {RunId}: {Count} active sys_users have no Entra user any more", runId, orphans);
            }
        }

        return (users + orphans, await plan.CompleteAsync(cancellationToken));
    }

    /// <summary>
    /// The sys_user of each manager the users that differ name, as this run knows it: the record carrying its object
    /// id (read again from the notes, only for those managers), or the one it is about to adopt. Reports handled
    /// beside their manager then reference it at once rather than needing a follow-up.
    /// </summary>
    private async Task<Dictionary<string, string>> ManagerSysIdsAsync(string runId, Dictionary<string, string?> managers,
        Dictionary<string, AdoptionDecision>? adoptions, CancellationToken cancellationToken)
    {
        var sysIds = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var manager in managers.Values)
        {
            if (manager is not null && adoptions?.GetValueOrDefault(manager) is { Verdict: AdoptionVerdict.Adopt, SysId: { Length: > 0 } adopted })
            {
                sysIds[manager] = adopted;
            }
        }

        var named = managers.Values.OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (named.Count == 0)
        {
            return sysIds;
        }

        await foreach (var noted in ReadWalkNotesAsync(runId, cancellationToken))
        {
            if (noted.SysId is { Length: > 0 } sysId && named.Contains(noted.Id))
            {
                sysIds[noted.Id] = sysId;
            }
        }

        return sysIds;
    }

    private static string SnapshotSliceKey(string runId, int slice) => $"{PlanKey(runId)}snap:{slice:D6}:";

    /// <summary>
    /// Files the users the pages carried (<see cref="PageSnapshot"/>) by the slice that queues them: one read of the
    /// walk's users as a stream, each chunk's written beside the slices they go to, so a fan-out step reads only its
    /// slice's and nothing holds them all.
    /// </summary>
    private async Task PlanSnapshotsAsync(string runId, Dictionary<string, int> sliceOf, CancellationToken cancellationToken)
    {
        var pages = PagesKey(runId);
        await foreach (var note in checkpoints.ListAsync(pages, cancellationToken))
        {
            var bySlice = (JsonSerializer.Deserialize<List<PageSnapshot>>(note.Value, NoteJson) ?? [])
                .Where(s => sliceOf.ContainsKey(s.User.Id))
                .GroupBy(s => sliceOf[s.User.Id]);
            foreach (var slice in bySlice)
            {
                await WriteNoteAsync($"{SnapshotSliceKey(runId, slice.Key)}{note.Key[pages.Length..]}:", slice, cancellationToken);
            }
        }
    }

    /// <summary>
    /// A fan-out step: queues one slice of the plan, and after the last one the groups run. The next step goes in the middle of the slice's users, so it is
    /// read only once the consumers have taken half of this slice: at most a slice and a half of the run's users wait
    /// in the queue whatever the tenant's size, and the consumers still have work while the next slice is read.
    /// </summary>
    private async Task QueuePlanSliceAsync(SyncRunState state, int slice, CancellationToken cancellationToken)
    {
        // The users the pages carried, for this slice only (a user a delta walk met twice: the later read).
        var snapshots = new Dictionary<string, PageSnapshot>(StringComparer.OrdinalIgnoreCase);
        await foreach (var snapshot in ReadNotesAsync<PageSnapshot>(SnapshotSliceKey(state.RunId, slice), cancellationToken))
        {
            if (!snapshots.TryGetValue(snapshot.User.Id, out var known) || known.ReadAt <= snapshot.ReadAt)
            {
                snapshots[snapshot.User.Id] = snapshot;
            }
        }

        var messages = new List<ChangeMessage>();
        await foreach (var planned in ReadNotesAsync<PlannedUser>(PlanSliceKey(state.RunId, slice), cancellationToken))
        {
            messages.Add(UserSyncMessage(state.RunId, planned.Id, planned.Properties, snapshots.GetValueOrDefault(planned.Id)));
        }

        var next = state with { NextPage = state.NextPage + 1 };
        var last = slice + 1 >= state.PlanSlices;
        if (!last)
        {
            messages.Insert(messages.Count / 2, PageMessage(next));
        }

        await queue.SendAsync(QueueNames.UserChanges, messages, cancellationToken);
        if (last)
        {
            await QueueGroupsAsync(state, cancellationToken);
        }

        await SaveAsync(last ? next with { Phase = SyncPhase.ProvisioningUsers } : next, cancellationToken);
        foreach (var prefix in new[] { PlanSliceKey(state.RunId, slice), SnapshotSliceKey(state.RunId, slice) })
        {
            await foreach (var part in checkpoints.ListAsync(prefix, cancellationToken))
            {
                await checkpoints.DeleteAsync(part.Key, cancellationToken);
            }
        }
    }

    private async Task DeletePlanAsync(string runId, CancellationToken cancellationToken)
    {
        await foreach (var part in checkpoints.ListAsync(PlanKey(runId), cancellationToken))
        {
            await checkpoints.DeleteAsync(part.Key, cancellationToken);
        }
    }

    /// <summary>A user the fan-out queues: its id and what its message carries besides the run.</summary>
    private sealed record PlannedUser(string Id, Dictionary<string, string>? Properties);

    /// <summary>Writes the plan a slice at a time as users are added; holds one slice.</summary>
    private sealed class PlanWriter(FullSyncRunner runner, string runId)
    {
        private readonly List<PlannedUser> _slice = [];
        private int _slices;

        /// <summary>The slice the next user added goes to.</summary>
        public int Slice => _slices;

        public async Task AddAsync(PlannedUser user, CancellationToken cancellationToken)
        {
            _slice.Add(user);
            if (_slice.Count >= runner.SliceSize)
            {
                await FlushAsync(cancellationToken);
            }
        }

        /// <summary>Writes what is left; returns the number of slices.</summary>
        public async Task<int> CompleteAsync(CancellationToken cancellationToken)
        {
            if (_slice.Count > 0)
            {
                await FlushAsync(cancellationToken);
            }

            return _slices;
        }

        private async Task FlushAsync(CancellationToken cancellationToken)
        {
            await runner.WriteNoteAsync(PlanSliceKey(runId, _slices++), _slice, cancellationToken);
            _slice.Clear();
        }
    }
}
