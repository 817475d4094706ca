using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Turns one group's observed membership changes into change_request records, exactly one per real change. Each
/// (group, member) pair has a last recorded state in the <see cref="MembershipLedger"/>; only a transition is written,
/// under a correlation id that names it (<c>entra-group:{group}:{member}:added:3</c>), looked up before the create, so a
/// run that died between the ServiceNow write and the ledger write finds its record instead of writing a second one.
/// </summary>
internal sealed class MembershipChangeRecorder(
    IDirectory directory,
    IServiceNowTable serviceNow,
    MembershipLedger ledger,
    ChangeAssignmentGroup assignmentGroup,
    IOptions<GroupChangeOptions> options,
    TimeProvider clock,
    ILogger<MembershipChangeRecorder> logger)
{
    public const string Table = "change_request";
    public const string CorrelationPrefix = "entra-group:";

    // ServiceNow's change states (Authorize waits for the approvers).
    private const string AuthorizeState = "-3";

    private sealed record Transition(string MemberId, bool IsGroup, MembershipState Next);

    /// <summary>
    /// Records the group's changes; with <paramref name="baseline"/> only the ledger is written (the first reading of a
    /// tenant is where things stand, not what changed). Returns how many records were created.
    /// </summary>
    public async Task<int> RecordAsync(ChangeMessage message, GroupChange change, bool baseline, SysUserIndex index, CancellationToken cancellationToken)
    {
        if (!options.Value.RecordChanges)
        {
            return 0;
        }

        var groupId = change.Group.Id;
        var transitions = new List<Transition>();
        var observed = change.Added.Select(id => (Id: id, IsGroup: false, IsMember: true))
            .Concat(change.GroupsAdded.Select(id => (Id: id, IsGroup: true, IsMember: true)))
            .Concat(change.Removed.Select(id => (Id: id, IsGroup: false, IsMember: false)))
            .Concat(change.GroupsRemoved.Select(id => (Id: id, IsGroup: true, IsMember: false)));
        foreach (var (memberId, isGroup, isMember) in observed)
        {
            if (baseline)
            {
                // Where things stand, nothing to compare with: one write per membership, no read.
                await ledger.SetAsync(groupId, memberId, new MembershipState(isMember, 1), cancellationToken);
                continue;
            }

            var state = await ledger.GetAsync(groupId, memberId, cancellationToken);
            if (state?.IsMember == isMember)
            {
                continue; // Already recorded: a replayed delta, a redelivered message, a full re-read.
            }

            transitions.Add(new Transition(memberId, isGroup, new MembershipState(isMember, (state?.Transitions ?? 0) + 1)));
        }

        if (transitions.Count == 0)
        {
            return 0;
        }

        var groupName = change.Group.DisplayName ?? (await directory.GetGroupAsync(groupId, cancellationToken))?.DisplayName ?? groupId;
        var members = await MemberFactsAsync(transitions, index, cancellationToken);
        var assignment = await assignmentGroup.SysIdAsync(cancellationToken);
        var created = 0;
        foreach (var transition in transitions)
        {
            var correlationId = CorrelationId(groupId, transition.MemberId, transition.Next);
            var existing = await serviceNow.FindAsync(Table, EncodedQuery.Where("correlation_id", correlationId), ["sys_id", "number"], cancellationToken);
            if (existing is null)
            {
                var fields = Fields(message, groupId, groupName, members[transition.MemberId], transition.Next.IsMember, correlationId, assignment);
                var record = await serviceNow.CreateAsync(Table, fields, cancellationToken);
                created++;
                logger.LogInformation("Change {Number} records {Member} {Direction} group {GroupId} (correlation {CorrelationId})",
                    record["number"], transition.MemberId, transition.Next.IsMember ? "added to" : "removed from", groupId, message.CorrelationId);
            }

            await ledger.SetAsync(groupId, transition.MemberId, transition.Next, cancellationToken);
        }

        return created;
    }

    public static string CorrelationId(string groupId, string memberId, MembershipState next) =>
        $"{CorrelationPrefix}{groupId.ToLowerInvariant()}:{memberId.ToLowerInvariant()}:{(next.IsMember ? "added" : "removed")}:{next.Transitions}";

    private Dictionary<string, string?> Fields(ChangeMessage message, string groupId, string groupName, MemberFacts member, bool added, string correlationId, string? assignment)
    {
        var settings = options.Value;
        var approve = settings.PolicyOf(groupId) == SensitiveGroupPolicies.Approve;
        var source = $"Microsoft Entra ID groups delta, read by EntraSnow (message {message.MessageId})";
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["type"] = approve ? "normal" : settings.ChangeType,
            ["category"] = settings.Category,
            ["short_description"] = ChangeRequestText.ShortDescription(member, added, groupName),
            ["description"] = ChangeRequestText.Description(member, added, groupId, groupName, clock.GetUtcNow(), source, actor: null),
            ["correlation_id"] = correlationId,
            ["correlation_display"] = "EntraSnow",
        };
        if (assignment is not null)
        {
            fields["assignment_group"] = assignment;
        }

        if (approve)
        {
            fields["state"] = AuthorizeState;
            fields["approval"] = "requested";
        }

        return fields;
    }

    /// <summary>Names for the members: users read from Graph in $batch calls of 20, nested groups one by one, sys_users from the index.</summary>
    private async Task<Dictionary<string, MemberFacts>> MemberFactsAsync(List<Transition> transitions, SysUserIndex index, CancellationToken cancellationToken)
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
