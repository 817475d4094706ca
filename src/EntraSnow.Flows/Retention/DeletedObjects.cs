using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Flows.Retention;

/// <summary>
/// The checkpoints kept about users and groups (a user's creation marker, the membership ledger's rows) outlive the
/// objects. When provisioning sees an object deleted in Entra ID it leaves a tombstone with the time; once
/// <see cref="RetentionOptions.DeletedObjects"/> has passed and Graph still does not have the object (Entra restores
/// deleted objects for 30 days), retention deletes its checkpoints and the tombstone. A restored object keeps them.
/// </summary>
public sealed class DeletedObjects(ICheckpointStore checkpoints, IDirectory directory)
{
    internal const string Prefix = "deleted:";
    internal const string User = "user";
    internal const string Group = "group";

    /// <summary>Remembers when an object was first seen deleted (a repeated deletion keeps the first time).</summary>
    internal static async Task RecordAsync(ICheckpointStore checkpoints, string kind, string objectId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var key = TombstoneKey(kind, objectId);
        if (await checkpoints.GetAsync(key, cancellationToken) is null)
        {
            await checkpoints.SetAsync(key, at.ToString("O", CultureInfo.InvariantCulture), cancellationToken);
        }
    }

    /// <summary>Deletes the checkpoints of objects deleted before <paramref name="cutoff"/> that Graph still lacks; returns how many checkpoints went.</summary>
    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var users = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var groups = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var tombstones = new List<string>();
        await foreach (var tombstone in checkpoints.ListAsync(Prefix, cancellationToken))
        {
            var parts = tombstone.Key.Split(':', 3);
            if (parts.Length != 3 || !DateTimeOffset.TryParse(tombstone.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var deletedAt)
                || deletedAt >= cutoff)
            {
                continue;
            }

            var (kind, id) = (parts[1], parts[2]);
            var stillGone = kind switch
            {
                User => await directory.GetUserAsync(id, cancellationToken) is null or { Removed: not null },
                Group => await directory.GetGroupAsync(id, cancellationToken) is null or { Removed: not null },
                _ => false,
            };
            if (stillGone)
            {
                (kind == User ? users : groups).Add(id);
            }

            tombstones.Add(tombstone.Key);
        }

        var deleted = 0;
        foreach (var user in users)
        {
            deleted += await DeleteIfPresentAsync(ProvisioningMessageProperties.CreationMarkerKey(user), cancellationToken);
        }

        if (users.Count + groups.Count > 0)
        {
            // Ledger rows are keyed group first: a deleted group's rows share a prefix, a deleted member's are found by scan
            // (a deleted group is a member too, nested in the groups it was in).
            var rows = new List<string>();
            foreach (var prefix in MembershipLedger.PairKeyPrefixes)
            {
                await foreach (var row in checkpoints.ListAsync(prefix, cancellationToken))
                {
                    if (MembershipLedger.Pair(prefix, row.Key) is { } pair
                        && (groups.Contains(pair.GroupId) || users.Contains(pair.MemberId) || groups.Contains(pair.MemberId)))
                    {
                        rows.Add(row.Key);
                    }
                }
            }

            foreach (var row in rows)
            {
                await checkpoints.DeleteAsync(row, cancellationToken);
            }

            deleted += rows.Count;
        }

        // Restored objects' tombstones go too: a later deletion starts a new one.
        foreach (var key in tombstones)
        {
            await checkpoints.DeleteAsync(key, cancellationToken);
        }

        return deleted;
    }

    /// <summary>
    /// Deletes the notes of EntraSnow's own membership changes (<see cref="MembershipLedger.MarkOwnChangeAsync"/>) made
    /// before <paramref name="cutoff"/>. A note goes once the change it announced is recorded; one whose change never
    /// showed (an Entra write that did not happen, a member who left again before any reading) explains nothing after
    /// <see cref="MembershipTransitions.OwnChangeWindow"/> (a day), so it would otherwise stay for ever. Returns how many went.
    /// </summary>
    public async Task<int> PurgeStaleOwnChangeNotesAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var stale = new List<string>();
        await foreach (var note in checkpoints.ListAsync(MembershipLedger.OwnKeyPrefix, cancellationToken))
        {
            if (MembershipLedger.OwnChangeNotedAt(note.Value) is { } at && at < cutoff)
            {
                stale.Add(note.Key);
            }
        }

        foreach (var key in stale)
        {
            await checkpoints.DeleteAsync(key, cancellationToken);
        }

        return stale.Count;
    }

    /// <summary>
    /// Deletes the state of sync runs last written before <paramref name="cutoff"/>, except the runs in progress: their
    /// records, the notes of users walks that never completed (a run abandoned half-way leaves them behind), and the
    /// summary-record tallies of groups runs that never got done (a delta step or group sync that was dead-lettered).
    /// </summary>
    public async Task<int> PurgeFinishedSyncRunsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var current = await checkpoints.GetAsync(FullSyncRunner.CurrentRunKey, cancellationToken);
        var groupsRun = await GroupDeltaProgress.LoadAsync(checkpoints, cancellationToken);
        var old = new List<string>();
        foreach (var (prefix, ofCurrent) in new[] { (FullSyncRunner.RunKeyPrefix, current is null ? null : FullSyncRunner.RunKey(current)),
                     (FullSyncRunner.WalkKeyPrefix, current is null ? null : FullSyncRunner.WalkKey(current)),
                     (BulkChangeSummaries.KeyPrefix, groupsRun is null ? null : BulkChangeSummaries.RunPrefix(groupsRun.RunKey)) })
        {
            await foreach (var run in checkpoints.ListAsync(prefix, cancellationToken))
            {
                if (run.UpdatedAt < cutoff && (ofCurrent is null || !run.Key.StartsWith(ofCurrent, StringComparison.Ordinal)))
                {
                    old.Add(run.Key);
                }
            }
        }

        foreach (var key in old)
        {
            await checkpoints.DeleteAsync(key, cancellationToken);
        }

        return old.Count;
    }

    private async Task<int> DeleteIfPresentAsync(string key, CancellationToken cancellationToken)
    {
        if (await checkpoints.GetAsync(key, cancellationToken) is null)
        {
            return 0;
        }

        await checkpoints.DeleteAsync(key, cancellationToken);
        return 1;
    }

    internal static string TombstoneKey(string kind, string objectId) => $"{Prefix}{kind}:{objectId.ToLowerInvariant()}";
}
