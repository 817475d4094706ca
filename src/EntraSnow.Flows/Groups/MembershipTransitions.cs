using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Groups;

/// <summary>One change of a (group, member) pair to record: the state it moves to.</summary>
/// <param name="OwnTicket">The ticket EntraSnow made this change for (<see cref="MembershipFulfilment"/>); null for anyone else's change.</param>
/// <param name="Noted">Whether the ledger held a note of an own change to this state, to forget once recorded.</param>
/// <param name="WasPending">Whether the ledger had this transition pending already: its record may exist, and is looked up before a create.</param>
/// <param name="PendingSummary">The run whose summary record the pending transition was being counted in (<see cref="MembershipEntry.PendingSummary"/>).</param>
internal sealed record MembershipTransition(string MemberId, bool IsGroup, MembershipState Next, string? OwnTicket = null, bool Noted = false, bool WasPending = false,
    string? PendingSummary = null)
{
    /// <summary>The correlation id of the record that holds the transition: its own, or the summary it was pending in.</summary>
    public string RecordId(string groupId) => MembershipChangeRecorder.RecordId(groupId, MemberId, Next, PendingSummary);
}

/// <summary>
/// Which of a group's observed memberships are changes to record: each is compared with the state the
/// <see cref="MembershipLedger"/> recorded, and a transition the ledger still has pending (a run died between its
/// ServiceNow write and the ledger's) is looked up by correlation id, the only lookup there is: it is recorded again
/// only if its record was never written.
/// </summary>
internal sealed class MembershipTransitions(IServiceNowTable serviceNow, MembershipLedger ledger, TimeProvider clock)
{
    // Correlation ids a lookup asks for at once (about 100 characters each: the query stays a short URL).
    private const int LookupBatch = 40;

    /// <summary>
    /// How long a note of EntraSnow's own change explains a transition. Long enough for a delta delayed by an outage;
    /// short enough that a note whose change was never reported on its own (a removal and re-add seen as one reading)
    /// cannot explain, and so exempt from a sensitive group's policy, a change made much later by someone else.
    /// </summary>
    internal static readonly TimeSpan OwnChangeWindow = TimeSpan.FromHours(24);

    /// <summary>
    /// The group's transitions, and the records already written of those that were pending (by correlation id). With
    /// <paramref name="baseline"/> the ledger takes every observed state and there is nothing to record (the first
    /// reading of a tenant is where things stand, not what changed).
    /// </summary>
    public async Task<(List<MembershipTransition> Transitions, Dictionary<string, ServiceNowRecord> Written)> ReadAsync(GroupChange change, bool baseline,
        CancellationToken cancellationToken)
    {
        var groupId = change.Group.Id;
        var transitions = new List<MembershipTransition>();
        var unsettled = new List<(string MemberId, bool IsGroup, MembershipEntry Entry)>();
        var observed = change.Added.Select(id => (Id: id, IsGroup: false, IsMember: true))
            .Concat(change.GroupsAdded.Select(id => (Id: id, IsGroup: true, IsMember: true)))
            .Concat(change.Removed.Select(id => (Id: id, IsGroup: false, IsMember: false)))
            .Concat(change.GroupsRemoved.Select(id => (Id: id, IsGroup: true, IsMember: false)));
        if (baseline)
        {
            // Where things stand, nothing to compare with: the ledger takes every membership, in batches, and nothing is read.
            await ledger.SetManyAsync(groupId, observed.Select(o => (o.Id, new MembershipState(o.IsMember, 1, o.IsGroup))), cancellationToken);
            return (transitions, []);
        }

        var roundTrips = await OwnRoundTripsAsync(groupId, cancellationToken);
        foreach (var (memberId, isGroup, isMember) in observed)
        {
            var entry = await ledger.GetAsync(groupId, memberId, cancellationToken);
            if (entry.Pending is { } pending)
            {
                if (pending.IsMember == isMember)
                {
                    // The transition a run died recording: its record may exist.
                    transitions.Add(await TransitionAsync(groupId, memberId, isGroup, pending, wasPending: true, cancellationToken) with { PendingSummary = entry.PendingSummary });
                }
                else
                {
                    // Back where it was recorded: whether the change in between was recorded decides if this is one more.
                    unsettled.Add((memberId, isGroup, entry));
                }

                continue;
            }

            var state = entry.Recorded;
            if (state?.IsMember == isMember)
            {
                if (state is { } recorded && roundTrips.Contains(memberId))
                {
                    // EntraSnow took the member out and put them back (or the reverse) between two readings, which see no change:
                    // both are its own, each recorded for its ticket.
                    transitions.Add(await TransitionAsync(groupId, memberId, isGroup, recorded.After, wasPending: false, cancellationToken));
                    transitions.Add(await TransitionAsync(groupId, memberId, isGroup, recorded.After.After, wasPending: false, cancellationToken));
                }

                continue; // Already recorded: a replayed delta, a redelivered message, a full re-read.
            }

            transitions.Add(await TransitionAsync(groupId, memberId, isGroup, new MembershipState(isMember, (state?.Transitions ?? 0) + 1, isGroup),
                wasPending: false, cancellationToken));
        }

        var written = await WrittenAlreadyAsync(groupId, transitions, unsettled, cancellationToken);
        foreach (var (memberId, isGroup, entry) in unsettled)
        {
            var pending = entry.Pending!.Value;
            if (written.ContainsKey(MembershipChangeRecorder.RecordId(groupId, memberId, pending, entry.PendingSummary)))
            {
                // The pending change was recorded, and undone since: that is a change of its own.
                transitions.Add(await TransitionAsync(groupId, memberId, isGroup, pending.After, wasPending: false, cancellationToken));
            }
            else
            {
                // Never recorded, and undone since: nothing changed as far as the records go.
                await ledger.ForgetPendingAsync(groupId, memberId, entry, cancellationToken);
            }
        }

        return (transitions, written);
    }

    /// <summary>
    /// The members of the group EntraSnow noted changes to in both directions, both within <see cref="OwnChangeWindow"/>:
    /// a removal it made and the re-add that undid it (a sensitive group's member put back once approved) that no reading
    /// saw apart. One range read of the group's notes, not one per member.
    /// </summary>
    private async Task<HashSet<string>> OwnRoundTripsAsync(string groupId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var directions = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        await foreach (var (memberId, change) in ledger.OwnChangesAsync(groupId, cancellationToken))
        {
            if (now - change.At <= OwnChangeWindow)
            {
                directions[memberId] = directions.GetValueOrDefault(memberId) + 1;
            }
        }

        return directions.Where(d => d.Value == 2).Select(d => d.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    private async Task<MembershipTransition> TransitionAsync(string groupId, string memberId, bool isGroup, MembershipState next, bool wasPending,
        CancellationToken cancellationToken)
    {
        var own = await ledger.GetOwnChangeAsync(groupId, memberId, next.IsMember, cancellationToken);
        return new MembershipTransition(memberId, isGroup, next with { IsGroup = isGroup }, own is not null && clock.GetUtcNow() - own.At <= OwnChangeWindow ? own.Ticket : null,
            own is not null, wasPending);
    }

    /// <summary>
    /// The records already in ServiceNow of the transitions the ledger had pending (written by a run that died before its
    /// ledger moved), found by correlation id <see cref="LookupBatch"/> at a time; no call at all when nothing was pending.
    /// </summary>
    private async Task<Dictionary<string, ServiceNowRecord>> WrittenAlreadyAsync(string groupId, List<MembershipTransition> transitions,
        List<(string MemberId, bool IsGroup, MembershipEntry Entry)> unsettled, CancellationToken cancellationToken)
    {
        var written = new Dictionary<string, ServiceNowRecord>(StringComparer.OrdinalIgnoreCase);
        // Members pending in one summary share its correlation id: it is asked for once.
        var pending = transitions.Where(t => t.WasPending).Select(t => t.RecordId(groupId))
            .Concat(unsettled.Select(u => MembershipChangeRecorder.RecordId(groupId, u.MemberId, u.Entry.Pending!.Value, u.Entry.PendingSummary)))
            .Distinct(StringComparer.OrdinalIgnoreCase);
        foreach (var chunk in pending.Chunk(LookupBatch))
        {
            var query = EncodedQuery.Where("correlation_id", "IN", string.Join(",", chunk));
            await foreach (var record in serviceNow.QueryAsync(MembershipChangeRecorder.Table, query, ["sys_id", "number", "description", "correlation_id"], cancellationToken))
            {
                if (record["correlation_id"] is { } id)
                {
                    written[id] = record;
                }
            }
        }

        return written;
    }
}
