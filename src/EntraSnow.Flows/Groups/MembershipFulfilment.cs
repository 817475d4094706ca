using EntraSnow.Connectors.Graph;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// The one way EntraSnow itself changes who is in an Entra group: on behalf of a ticket (an approved access request,
/// a change whose approval a sensitive group waited for). The change is noted in the <see cref="MembershipLedger"/>
/// before Graph is called, so the group delta that reports it records it as EntraSnow's, for that ticket, instead of as
/// an unexplained change (which a sensitive group's policy would undo). Idempotent: adding a member already there or
/// removing one already gone succeeds, so a redelivered request changes nothing twice.
/// </summary>
internal sealed class MembershipFulfilment(IDirectory directory, MembershipLedger ledger, TimeProvider clock, ILogger<MembershipFulfilment> logger)
{
    public Task AddAsync(string groupId, string userId, string ticket, CancellationToken cancellationToken) =>
        ChangeAsync(groupId, userId, add: true, ticket, cancellationToken);

    public Task RemoveAsync(string groupId, string userId, string ticket, CancellationToken cancellationToken) =>
        ChangeAsync(groupId, userId, add: false, ticket, cancellationToken);

    private async Task ChangeAsync(string groupId, string userId, bool add, string ticket, CancellationToken cancellationToken)
    {
        await ledger.MarkOwnChangeAsync(groupId, userId, new OwnChange(add, ticket, clock.GetUtcNow()), cancellationToken);
        var changed = add
            ? await directory.AddGroupMemberAsync(groupId, userId, cancellationToken)
            : await directory.RemoveGroupMemberAsync(groupId, userId, cancellationToken);
        if (!changed && await ledger.GetAsync(groupId, userId, cancellationToken) is { Pending: null } entry && entry.Recorded?.IsMember == add)
        {
            // Nothing changed and nothing is waiting to be recorded: a note left now would explain someone else's later change.
            await ledger.ClearOwnChangeAsync(groupId, userId, add, cancellationToken);
        }

        logger.LogInformation("{Direction} {UserId} {Preposition} group {GroupId} for {Ticket}{Already}",
            add ? "Added" : "Removed", userId, add ? "to" : "from", groupId, ticket, changed ? string.Empty : " (it was so already)");
    }
}
