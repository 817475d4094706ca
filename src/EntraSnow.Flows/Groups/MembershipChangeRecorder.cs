using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Turns one group's observed membership changes into change_request records, exactly one per real change. Each
/// (group, member) pair has a last recorded state in the <see cref="MembershipLedger"/>; only a transition is written,
/// under a correlation id that names it (<c>entra-group:{group}:{member}:added:3</c>). The ledger notes the transition as
/// pending before the create and moves on to it after, so the normal path costs one ServiceNow call a record; a
/// transition found still pending (a run that died between the ServiceNow write and the ledger write, or a redelivery of
/// it) is looked up by its correlation id (40 at a time) and finds its record instead of writing a second one.
/// </summary>
internal sealed class MembershipChangeRecorder(
    IDirectory directory,
    IServiceNowTable serviceNow,
    MembershipLedger ledger,
    MembershipFulfilment fulfilment,
    ChangeAssignmentGroup assignmentGroup,
    IMembershipActors actors,
    ActorFollowUp actorFollowUp,
    SensitiveGroupPolicy sensitiveGroups,
    IOptions<GroupChangeOptions> options,
    TimeProvider clock,
    ILogger<MembershipChangeRecorder> logger)
{
    public const string Table = "change_request";
    public const string CorrelationPrefix = "entra-group:";

    // ServiceNow's change states (Authorize waits for the approvers).
    private const string AuthorizeState = "-3";

    // Correlation ids a lookup asks for at once (about 100 characters each: the query stays a short URL).
    private const int LookupBatch = 40;

    // How many members a summary record names; the rest are counted (a description holds about 4,000 characters).
    private const int SummaryNames = 40;

    // A change EntraSnow made itself is done, for the ticket that asked: recorded closed.
    private const string ClosedState = "3";

    /// <summary>
    /// How long a note of EntraSnow's own change explains a transition. Long enough for a delta delayed by an outage;
    /// short enough that a note whose change was never reported on its own (a removal and re-add seen as one reading)
    /// cannot explain, and so exempt from a sensitive group's policy, a change made much later by someone else.
    /// </summary>
    internal static readonly TimeSpan OwnChangeWindow = TimeSpan.FromHours(24);

    /// <param name="OwnTicket">The ticket EntraSnow made this change for (<see cref="MembershipFulfilment"/>); null for anyone else's change.</param>
    /// <param name="Noted">Whether the ledger held a note of an own change to this state, to forget once recorded.</param>
    /// <param name="WasPending">Whether the ledger had this transition pending already: its record may exist, and is looked up before a create.</param>
    private sealed record Transition(string MemberId, bool IsGroup, MembershipState Next, string? OwnTicket = null, bool Noted = false, bool WasPending = false);

    /// <summary>
    /// Records the group's changes; with <paramref name="baseline"/> only the ledger is written (the first reading of a
    /// tenant is where things stand, not what changed). Returns how many records were created.
    /// </summary>
    /// <param name="runKey">What the run read from (its delta link, or its message id): a summary record's correlation id, stable when the run is replayed.</param>
    /// <param name="recorded">The group's changes recorded earlier in the run (other pages of the delta): the cap counts them too.</param>
    public async Task<int> RecordAsync(ChangeMessage message, GroupChange change, bool baseline, string runKey, RunChangeCounts recorded, SysUserIndex index,
        CancellationToken cancellationToken)
    {
        if (!options.Value.RecordChanges)
        {
            return 0;
        }

        var groupId = change.Group.Id;
        var transitions = new List<Transition>();
        var unsettled = new List<(string MemberId, bool IsGroup, MembershipEntry Entry)>();
        var observed = change.Added.Select(id => (Id: id, IsGroup: false, IsMember: true))
            .Concat(change.GroupsAdded.Select(id => (Id: id, IsGroup: true, IsMember: true)))
            .Concat(change.Removed.Select(id => (Id: id, IsGroup: false, IsMember: false)))
            .Concat(change.GroupsRemoved.Select(id => (Id: id, IsGroup: true, IsMember: false)));
        foreach (var (memberId, isGroup, isMember) in observed)
        {
            if (baseline)
            {
                // Where things stand, nothing to compare with: one write per membership, no read.
                await ledger.SetAsync(groupId, memberId, new MembershipState(isMember, 1, isGroup), cancellationToken);
                continue;
            }

            var entry = await ledger.GetAsync(groupId, memberId, cancellationToken);
            if (entry.Pending is { } pending)
            {
                if (pending.IsMember == isMember)
                {
                    // The transition a run died recording: its record may exist.
                    transitions.Add(await TransitionAsync(groupId, memberId, isGroup, pending, wasPending: true, cancellationToken));
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
                continue; // Already recorded: a replayed delta, a redelivered message, a full re-read.
            }

            transitions.Add(await TransitionAsync(groupId, memberId, isGroup, new MembershipState(isMember, (state?.Transitions ?? 0) + 1, isGroup),
                wasPending: false, cancellationToken));
        }

        var written = await WrittenAlreadyAsync(groupId, transitions, unsettled, cancellationToken);
        foreach (var (memberId, isGroup, entry) in unsettled)
        {
            var pending = entry.Pending!.Value;
            if (written.ContainsKey(CorrelationId(groupId, memberId, pending)))
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

        if (transitions.Count == 0)
        {
            return 0;
        }

        // A delta page of members only does not carry the group's properties: read them once.
        var group = change.Group.DisplayName is null ? await directory.GetGroupAsync(groupId, cancellationToken) ?? change.Group : change.Group;
        var groupName = group.DisplayName ?? groupId;
        var policy = await sensitiveGroups.PolicyOfAsync(group, cancellationToken);
        var assignment = await assignmentGroup.SysIdAsync(cancellationToken);
        // One audit log read for the group's whole run, never one per member.
        var actorLookup = await actors.ReadAsync(groupId, transitions.Count, changedBy: null, cancellationToken);

        // Under remove-until-approved every member waits for their own approval: no summary record stands for them.
        var removeUntilApproved = policy == SensitiveGroupPolicies.RemoveUntilApproved;
        var earlier = recorded.Before(groupId);
        if (earlier + transitions.Count > options.Value.MaxRecordsPerGroupPerRun && !removeUntilApproved)
        {
            var summary = await RecordSummaryAsync(message, groupId, groupName, policy, transitions, earlier, runKey, index, assignment, actorLookup, cancellationToken);
            recorded.Add(groupId, transitions.Count);
            return summary;
        }

        var members = await MemberFactsAsync(transitions, index, cancellationToken);
        var created = 0;
        var numbers = new List<string>(transitions.Count);
        var actorsLate = new List<ActorFollowUp.Record>();
        var observedAt = clock.GetUtcNow();
        foreach (var transition in transitions)
        {
            var correlationId = CorrelationId(groupId, transition.MemberId, transition.Next);
            var existing = written.GetValueOrDefault(correlationId);
            var number = existing?["number"];
            var lacksActor = existing is not null && ChangeRequestText.LacksActor(existing["description"]);
            if (existing is null)
            {
                if (!transition.WasPending)
                {
                    // Before the create: a run that dies after it looks the record up instead of writing a second.
                    await ledger.SetPendingAsync(groupId, transition.MemberId, transition.Next, cancellationToken);
                }

                var actor = actorLookup.ActorOf(transition.MemberId, transition.Next.IsMember);
                var fields = Fields(message, groupId, groupName, members[transition.MemberId], transition.Next.IsMember, correlationId, assignment, policy,
                    actor, transition.OwnTicket);
                var record = await serviceNow.CreateAsync(Table, fields, cancellationToken);
                number = record["number"];
                lacksActor = actor is null && transition.OwnTicket is null;
                created++;
                logger.LogInformation("Change {Number} records {Member} {Direction} group {GroupId}{Own} (correlation {CorrelationId})",
                    record["number"], transition.MemberId, transition.Next.IsMember ? "added to" : "removed from", groupId,
                    transition.OwnTicket is null ? string.Empty : $" by EntraSnow for {transition.OwnTicket}", message.CorrelationId);
            }

            numbers.Add(number ?? correlationId);
            if (lacksActor)
            {
                actorsLate.Add(new ActorFollowUp.Record(transition.MemberId, transition.Next));
            }
        }

        // Before the ledger moves: a run that dies after its records finds them again, and asks again for those without an actor.
        if (actorFollowUp.Wanted(actorLookup))
        {
            await actorFollowUp.ScheduleAsync(message, groupId, actorsLate, observedAt, round: 1, cancellationToken);
        }

        for (var i = 0; i < transitions.Count; i++)
        {
            var transition = transitions[i];
            if (removeUntilApproved && transition.Next.IsMember && transition.OwnTicket is null)
            {
                await RemoveUntilApprovedAsync(groupId, transition, numbers[i], cancellationToken);
                continue;
            }

            await SetAsync(groupId, transition, cancellationToken);
        }

        recorded.Add(groupId, transitions.Count);
        return created;
    }

    private async Task<Transition> TransitionAsync(string groupId, string memberId, bool isGroup, MembershipState next, bool wasPending,
        CancellationToken cancellationToken)
    {
        var own = await ledger.GetOwnChangeAsync(groupId, memberId, next.IsMember, cancellationToken);
        return new Transition(memberId, isGroup, next with { IsGroup = isGroup }, own is not null && clock.GetUtcNow() - own.At <= OwnChangeWindow ? own.Ticket : null,
            own is not null, wasPending);
    }

    /// <summary>
    /// The records already in ServiceNow of the transitions the ledger had pending (written by a run that died before its
    /// ledger moved), found by correlation id <see cref="LookupBatch"/> at a time; no call at all when nothing was pending.
    /// </summary>
    private async Task<Dictionary<string, ServiceNowRecord>> WrittenAlreadyAsync(string groupId, List<Transition> transitions,
        List<(string MemberId, bool IsGroup, MembershipEntry Entry)> unsettled, CancellationToken cancellationToken)
    {
        var written = new Dictionary<string, ServiceNowRecord>(StringComparer.OrdinalIgnoreCase);
        var pending = transitions.Where(t => t.WasPending).Select(t => CorrelationId(groupId, t.MemberId, t.Next))
            .Concat(unsettled.Select(u => CorrelationId(groupId, u.MemberId, u.Entry.Pending!.Value)));
        foreach (var chunk in pending.Chunk(LookupBatch))
        {
            var query = EncodedQuery.Where("correlation_id", "IN", string.Join(",", chunk));
            await foreach (var record in serviceNow.QueryAsync(Table, query, ["sys_id", "number", "description", "correlation_id"], cancellationToken))
            {
                if (record["correlation_id"] is { } id)
                {
                    written[id] = record;
                }
            }
        }

        return written;
    }

    /// <summary>
    /// A full reading lists who is in the group now, not who left it: members the ledger still has in the group that the
    /// reading does not list left in a gap (an expired delta link, a from-scratch re-read, a full sync) and are added to
    /// <paramref name="change"/> as removals, to be recorded with the rest. The ledger is read as a stream; only the
    /// members gone are kept.
    /// </summary>
    public async Task AddMembersGoneAsync(GroupChange change, CancellationToken cancellationToken)
    {
        if (!options.Value.RecordChanges)
        {
            return;
        }

        await foreach (var (memberId, entry) in ledger.MembersAsync(change.Group.Id, cancellationToken))
        {
            // A member being recorded as added counts too: if that record was written, the removal is a change of its own.
            if (entry.MayBeMember && !change.Added.Contains(memberId) && !change.GroupsAdded.Contains(memberId))
            {
                ((entry.Pending ?? entry.Recorded)!.Value.IsGroup ? change.GroupsRemoved : change.Removed).Add(memberId);
            }
        }
    }

    /// <summary>
    /// One record for a bulk change: the first members by name and how many more. Its correlation id names the group
    /// and what the run read from, so a replayed run finds it; the ledger then takes every member's new state.
    /// </summary>
    /// <param name="earlier">The group's changes recorded on earlier pages of the run, each with its own record.</param>
    private async Task<int> RecordSummaryAsync(ChangeMessage message, string groupId, string groupName, string policy, List<Transition> transitions, int earlier, string runKey,
        SysUserIndex index, string? assignment, MembershipActorLookup actorLookup, CancellationToken cancellationToken)
    {
        var correlationId = $"{CorrelationPrefix}{groupId.ToLowerInvariant()}:bulk:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(runKey)))[..16]}";
        var created = 0;
        if (await serviceNow.FindAsync(Table, EncodedQuery.Where("correlation_id", correlationId), ["sys_id"], cancellationToken) is null)
        {
            var named = transitions.Take(SummaryNames).ToList();
            var facts = await MemberFactsAsync(named, index, cancellationToken);
            var lines = named.Select(t => $"{(t.Next.IsMember ? "added" : "removed")}: {facts[t.MemberId].Name ?? t.MemberId} ({t.MemberId})");
            var added = transitions.Count(t => t.Next.IsMember);
            var fields = Fields(message, groupId, groupName, null, added > 0, correlationId, assignment, policy, actor: null);
            fields["short_description"] = ChangeRequestText.SummaryShortDescription(groupName, added, transitions.Count - added);
            // The actors of the named members (a bulk change is mostly one person's or one sync engine's work).
            var actorsNamed = named.Select(t => actorLookup.WhoOf(t.MemberId, t.Next.IsMember)).OfType<string>()
                .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            fields["description"] = ChangeRequestText.SummaryDescription(groupId, groupName, added, transitions.Count - added, lines, transitions.Count - named.Count,
                earlier, clock.GetUtcNow(), Source(message), actorsNamed.Count == 0 ? null : string.Join(", ", actorsNamed));
            var record = await serviceNow.CreateAsync(Table, fields, cancellationToken);
            created = 1;
            logger.LogInformation("Change {Number} records {Count} membership changes of group {GroupId} at once (correlation {CorrelationId})",
                record["number"], transitions.Count, groupId, message.CorrelationId);
        }

        foreach (var transition in transitions)
        {
            await SetAsync(groupId, transition, cancellationToken);
        }

        return created;
    }

    /// <summary>
    /// Takes the member out at once, noted as EntraSnow's own change for <paramref name="change"/> (so the removal is
    /// not recorded as unexplained). The ledger moves last: a run that dies before it finds the record again and removes
    /// again (a member already gone is success), so nobody keeps access for want of a retry.
    /// </summary>
    private async Task RemoveUntilApprovedAsync(string groupId, Transition transition, string change, CancellationToken cancellationToken)
    {
        if (transition.Noted)
        {
            await ledger.ClearOwnChangeAsync(groupId, transition.MemberId, transition.Next.IsMember, cancellationToken);
        }

        await fulfilment.RemoveAsync(groupId, transition.MemberId, change, cancellationToken);
        await ledger.SetAsync(groupId, transition.MemberId, transition.Next, cancellationToken);
    }

    private async Task SetAsync(string groupId, Transition transition, CancellationToken cancellationToken)
    {
        await ledger.SetAsync(groupId, transition.MemberId, transition.Next, cancellationToken);
        if (transition.Noted)
        {
            await ledger.ClearOwnChangeAsync(groupId, transition.MemberId, transition.Next.IsMember, cancellationToken);
        }
    }

    public static string CorrelationId(string groupId, string memberId, MembershipState next) =>
        $"{CorrelationPrefix}{groupId.ToLowerInvariant()}:{memberId.ToLowerInvariant()}:{(next.IsMember ? "added" : "removed")}:{next.Transitions}";

    private static string Source(ChangeMessage message) => $"Microsoft Entra ID groups delta, read by EntraSnow (message {message.MessageId})";

    /// <summary>The record's fields; a summary (<paramref name="member"/> null) gets its words from the caller.</summary>
    /// <param name="actor">Who made the change, from the directory audit log; null: "actor not read".</param>
    /// <param name="ownTicket">Set for a change EntraSnow made for a ticket: an ordinary record, closed, naming the ticket; no approval asked.</param>
    /// <param name="policy">The group's <see cref="SensitiveGroupPolicies"/> (<see cref="SensitiveGroupPolicy"/>).</param>
    private Dictionary<string, string?> Fields(ChangeMessage message, string groupId, string groupName, MemberFacts? member, bool added, string correlationId, string? assignment,
        string policy, string? actor, string? ownTicket = null)
    {
        var settings = options.Value;
        var approve = ownTicket is null && SensitiveGroupPolicies.AsksApproval(policy);
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["type"] = approve ? "normal" : settings.ChangeType,
            ["category"] = settings.Category,
            ["short_description"] = member is null ? null : ChangeRequestText.ShortDescription(member, added, groupName),
            ["description"] = member is null ? null : ChangeRequestText.Description(member, added, groupId, groupName, clock.GetUtcNow(), Source(message),
                ownTicket is null ? actor : $"EntraSnow, for {ownTicket}"),
            ["correlation_id"] = correlationId,
            ["correlation_display"] = "EntraSnow",
        };
        if (assignment is not null)
        {
            fields["assignment_group"] = assignment;
        }

        if (ownTicket is not null)
        {
            fields["state"] = ClosedState;
            fields["close_code"] = "successful";
            fields["close_notes"] = $"Carried out by EntraSnow for {ownTicket}.";
        }

        if (approve && added && member is not null && policy == SensitiveGroupPolicies.RemoveUntilApproved)
        {
            fields["description"] += "\n\nEntraSnow removed the member from the group at once (policy remove-until-approved): approving this change puts them back, rejecting it leaves them out.";
        }

        if (approve)
        {
            fields["state"] = AuthorizeState;
            fields["approval"] = "requested";
        }

        return fields;
    }

    /// <summary>Names for the members: users read from Graph in $batch calls of 20, nested groups one by one, sys_users from the index.</summary>
    private async Task<Dictionary<string, MemberFacts>> MemberFactsAsync(IReadOnlyList<Transition> transitions, SysUserIndex index, CancellationToken cancellationToken)
    {
        var userIds = transitions.Where(t => !t.IsGroup).Select(t => t.MemberId).ToList();
        var users = userIds.Count == 0
            ? []
            : (await directory.GetUsersAsync(userIds, cancellationToken)).ToDictionary(u => u.Id, StringComparer.OrdinalIgnoreCase);
        var facts = new Dictionary<string, MemberFacts>(StringComparer.OrdinalIgnoreCase);
        foreach (var transition in transitions)
        {
            if (transition.IsGroup)
            {
                var nested = await directory.GetGroupAsync(transition.MemberId, cancellationToken);
                facts[transition.MemberId] = new MemberFacts(transition.MemberId, true, nested?.DisplayName, null);
            }
            else
            {
                var name = users.GetValueOrDefault(transition.MemberId)?.UserPrincipalName;
                facts[transition.MemberId] = new MemberFacts(transition.MemberId, false, name, await index.FindAsync(transition.MemberId, cancellationToken));
            }
        }

        return facts;
    }
}
