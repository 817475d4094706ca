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
/// transition found still pending (a run that died between the ServiceNow write and the ledger write) is looked up by
/// its correlation id (<see cref="MembershipTransitions"/>) and finds its record instead of writing a second one.
/// </summary>
internal sealed class MembershipChangeRecorder(
    IDirectory directory,
    IServiceNowTable serviceNow,
    MembershipLedger ledger,
    MembershipTransitions transitionReader,
    MembershipFulfilment fulfilment,
    ChangeAssignmentGroup assignmentGroup,
    IMembershipActors actors,
    ActorFollowUp actorFollowUp,
    BulkChangeSummaries summaries,
    SensitiveGroupPolicy sensitiveGroups,
    IOptions<GroupChangeOptions> options,
    TimeProvider clock,
    ILogger<MembershipChangeRecorder> logger)
{
    public const string Table = "change_request";
    public const string CorrelationPrefix = "entra-group:";

    // ServiceNow's change states (Authorize waits for the approvers).
    private const string AuthorizeState = "-3";

    // A change EntraSnow made itself is done, for the ticket that asked: recorded closed.
    private const string ClosedState = "3";

    /// <summary>
    /// Records the group's changes; with <paramref name="baseline"/> only the ledger is written (the first reading of a
    /// tenant is where things stand, not what changed). Returns how many records were created.
    /// </summary>
    /// <param name="run">The run and page in hand, and the group's changes recorded earlier in the run (other pages of the delta): the cap counts them too.</param>
    public async Task<int> RecordAsync(ChangeMessage message, GroupChange change, bool baseline, RecordingRun run, SysUserIndex index,
        CancellationToken cancellationToken)
    {
        if (!options.Value.RecordChanges)
        {
            return 0;
        }

        var groupId = change.Group.Id;
        var (transitions, written) = await transitionReader.ReadAsync(change, baseline, cancellationToken);
        await CountedInOtherSummaryAsync(groupId, transitions, written, run, cancellationToken);
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
        var earlier = run.Before(groupId);
        if (earlier + transitions.Count > options.Value.MaxRecordsPerGroupPerRun && !removeUntilApproved)
        {
            var summary = await RecordSummaryAsync(message, groupId, groupName, policy, transitions, earlier, run, index, assignment, actorLookup, cancellationToken);
            run.Add(groupId, transitions.Count);
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
                if (!transition.WasPending || transition.PendingSummary is not null)
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
            await actorFollowUp.ScheduleAsync(message, groupId, actorsLate, observedAt, round: 1, summary: null, cancellationToken);
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

        run.Add(groupId, transitions.Count);
        return created;
    }

    /// <summary>
    /// Takes out of <paramref name="transitions"/> those another run's summary record counts already (that run died
    /// between its summary's write and its ledger's, and was then replaced by a new full read or dead-lettered): the
    /// ledger moves on for them and nothing is recorded again. Only transitions found pending are concerned, so this costs
    /// nothing on the normal path.
    /// </summary>
    private async Task CountedInOtherSummaryAsync(string groupId, List<MembershipTransition> transitions, Dictionary<string, ServiceNowRecord> written,
        RecordingRun run, CancellationToken cancellationToken)
    {
        var ownRun = BulkChangeSummaries.RunHash(run.RunKey);
        var counted = transitions.Where(t => t.PendingSummary is { } summary && summary != ownRun && written.ContainsKey(t.RecordId(groupId))).ToList();
        foreach (var transition in counted)
        {
            await SetAsync(groupId, transition, cancellationToken);
            transitions.Remove(transition);
        }

        if (counted.Count > 0)
        {
            logger.LogInformation("{Count} membership changes of group {GroupId} are counted in an earlier run's summary record already", counted.Count, groupId);
        }
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
    /// The group's one summary record of the run, for the changes past the cap: created by the page that passes it, brought
    /// up to date by the run's later pages (<see cref="BulkChangeSummaries"/>); the ledger then takes every member's new
    /// state. Only the first members are named (read from Graph), the rest counted.
    /// </summary>
    /// <param name="earlier">The group's changes recorded on earlier pages of the run, each with its own record.</param>
    private async Task<int> RecordSummaryAsync(ChangeMessage message, string groupId, string groupName, string policy, List<MembershipTransition> transitions, int earlier, RecordingRun run,
        SysUserIndex index, string? assignment, MembershipActorLookup actorLookup, CancellationToken cancellationToken)
    {
        var saved = await summaries.LoadAsync(run.RunKey, groupId, cancellationToken);
        // A page written twice (a replayed run) is counted once: its tally was saved before the write.
        var tally = saved is { } same && same.PageKey == run.PageKey ? same : await TallyAsync(saved, groupId, transitions, earlier, run, index, actorLookup, cancellationToken);
        var fields = Fields(message, groupId, groupName, null, tally.Added > 0, BulkChangeSummaries.CorrelationId(groupId, run.RunKey), assignment, policy, actor: null);
        fields["short_description"] = ChangeRequestText.SummaryShortDescription(groupName, tally.Added, tally.Removed);
        fields["description"] = ChangeRequestText.SummaryDescription(groupId, groupName, tally.Added, tally.Removed, tally.Named,
            tally.Added + tally.Removed - tally.Named.Count, tally.Earlier, tally.ObservedAt, Source(message), tally.Actors.Count == 0 ? null : string.Join(", ", tally.Actors));
        // Without a tally the record is looked up only when retention may have deleted the tally of a run that wrote it
        // (a dead letter replayed a month on): a run's first summary of a group costs its create alone.
        var triedBefore = saved is not null || BulkChangeSummaries.TallyMayBePurged(message, clock.GetUtcNow());
        // Before the write, as a record of its own would be: a run that replaces this one finds the summary through the
        // members' ledger entries instead of counting them again in a summary of its own.
        var ownRun = BulkChangeSummaries.RunHash(run.RunKey);
        await ledger.SetPendingInSummaryAsync(groupId, transitions.Where(t => t.PendingSummary != ownRun).Select(t => (t.MemberId, t.Next)), ownRun, cancellationToken);
        var (written, created) = await summaries.WriteAsync(run.RunKey, groupId, tally, triedBefore, fields, cancellationToken);
        if (created && written.Actors.Count == 0 && actorFollowUp.Wanted(actorLookup))
        {
            // Entra ID publishes audit entries late: the follow-up asks again about the members the summary names.
            await actorFollowUp.ScheduleAsync(message, groupId, [.. transitions.Take(BulkChangeSummaries.Names).Select(t => new ActorFollowUp.Record(t.MemberId, t.Next))],
                written.ObservedAt, round: 1, summary: BulkChangeSummaries.CorrelationId(groupId, run.RunKey), cancellationToken);
        }

        foreach (var transition in transitions)
        {
            await SetAsync(groupId, transition, cancellationToken);
        }

        return created ? 1 : 0;
    }

    /// <summary>The summary's tally with the page's changes counted in, saved before the record is written.</summary>
    private async Task<SummaryTally> TallyAsync(SummaryTally? saved, string groupId, List<MembershipTransition> transitions, int earlier, RecordingRun run, SysUserIndex index,
        MembershipActorLookup actorLookup, CancellationToken cancellationToken)
    {
        var named = transitions.Take(BulkChangeSummaries.Names - (saved?.Named.Count ?? 0)).ToList();
        var facts = await MemberFactsAsync(named, index, cancellationToken);
        var added = transitions.Count(t => t.Next.IsMember);
        var before = saved ?? new SummaryTally(run.PageKey, earlier, 0, 0, [], [], clock.GetUtcNow());
        var tally = before with
        {
            PageKey = run.PageKey,
            Added = before.Added + added,
            Removed = before.Removed + transitions.Count - added,
            Named = [.. before.Named, .. named.Select(t => $"{(t.Next.IsMember ? "added" : "removed")}: {facts[t.MemberId].Name ?? t.MemberId} ({t.MemberId})")],
            // The actors of the named members (a bulk change is mostly one person's or one sync engine's work).
            Actors = [.. before.Actors.Concat(named.Select(t => actorLookup.WhoOf(t.MemberId, t.Next.IsMember)).OfType<string>()).Distinct(StringComparer.OrdinalIgnoreCase)],
        };
        await summaries.SaveAsync(run.RunKey, groupId, tally, cancellationToken);
        return tally;
    }

    /// <summary>Forgets what the run kept about its summary records, once it is done.</summary>
    public Task ForgetRunAsync(string runKey, CancellationToken cancellationToken) => summaries.ForgetRunAsync(runKey, cancellationToken);

    /// <summary>
    /// Takes the member out at once, noted as EntraSnow's own change for <paramref name="change"/> (so the removal is
    /// not recorded as unexplained). The ledger moves last: a run that dies before it finds the record again and removes
    /// again (a member already gone is success), so nobody keeps access for want of a retry.
    /// </summary>
    private async Task RemoveUntilApprovedAsync(string groupId, MembershipTransition transition, string change, CancellationToken cancellationToken)
    {
        if (transition.Noted)
        {
            await ledger.ClearOwnChangeAsync(groupId, transition.MemberId, transition.Next.IsMember, cancellationToken);
        }

        await fulfilment.RemoveAsync(groupId, transition.MemberId, change, cancellationToken);
        await ledger.SetAsync(groupId, transition.MemberId, transition.Next, cancellationToken);
    }

    private async Task SetAsync(string groupId, MembershipTransition transition, CancellationToken cancellationToken)
    {
        await ledger.SetAsync(groupId, transition.MemberId, transition.Next, cancellationToken);
        if (transition.Noted)
        {
            await ledger.ClearOwnChangeAsync(groupId, transition.MemberId, transition.Next.IsMember, cancellationToken);
        }
    }

    /// <summary>The correlation id of the record of a transition: its own, or that of the summary of <paramref name="summaryRun"/> it is counted in.</summary>
    public static string RecordId(string groupId, string memberId, MembershipState next, string? summaryRun) =>
        summaryRun is null ? CorrelationId(groupId, memberId, next) : BulkChangeSummaries.CorrelationIdOfRun(groupId, summaryRun);

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
    private async Task<Dictionary<string, MemberFacts>> MemberFactsAsync(IReadOnlyList<MembershipTransition> transitions, SysUserIndex index, CancellationToken cancellationToken)
    {
        // A member EntraSnow took out and put back has two transitions: read once.
        var userIds = transitions.Where(t => !t.IsGroup).Select(t => t.MemberId).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
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
