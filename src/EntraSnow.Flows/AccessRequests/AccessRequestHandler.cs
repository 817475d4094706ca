using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.CatalogTickets;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ServiceNowWebhooks;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.AccessRequests;

/// <summary>
/// Carries out a group access request from the ServiceNow catalog. The requested item is read back and acted on only
/// when it is approved, names the group and action the webhook named, is for a person with an Entra account, and the
/// group is on the allow-list (<see cref="AccessRequestOptions"/>); otherwise the ticket is closed incomplete with a
/// work note saying why, and nothing changes in Entra. The member is added or removed through
/// <see cref="MembershipFulfilment"/>, so the change record the group delta writes names the ticket. The queue also
/// carries ServiceNow's decisions on changes a sensitive group waits for (<see cref="ChangeDecisions"/>), which re-add
/// through the same path.
/// </summary>
internal sealed class AccessRequestHandler(
    CatalogTicketStore tickets,
    IDirectory directory,
    MembershipFulfilment fulfilment,
    ChangeDecisions decisions,
    IOptions<AccessRequestOptions> options) : IMessageHandler
{
    public const string Approved = "approved";

    // The catalog item's variables (servicenow/src/fluent/access-request.now.ts), as the Table API dot-walks them.
    private const string GroupVariable = "variables.group";
    private const string ActionVariable = "variables.action";

    public string Queue => QueueNames.AccessRequests;

    public Task HandleAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        if (message.Kind == MessageKinds.ChangeDecision)
        {
            return decisions.ApplyAsync(message, cancellationToken);
        }

        if (message.Kind != MessageKinds.AccessRequest)
        {
            throw new PermanentFailureException($"The access-requests queue does not handle '{message.Kind}' messages.");
        }

        // A fulfilment task carries no variables of its own: they are read through its requested item.
        var via = message.Property(ServiceNowWebhookIntake.Properties.Table) == CatalogTicketStore.TaskTable ? "request_item." : string.Empty;
        return tickets.FulfilAsync(message, [via + GroupVariable, via + ActionVariable], "access request", "EntraSnow did not change the group membership",
            ticket => CarryOutAsync(ticket, message, via, cancellationToken), cancellationToken);
    }

    /// <returns>The work note saying what was done.</returns>
    private async Task<string> CarryOutAsync(CatalogTicket ticket, ChangeMessage message, string via, CancellationToken cancellationToken)
    {
        if (!string.Equals(ticket.Approval, Approved, StringComparison.OrdinalIgnoreCase))
        {
            throw new RequestRefusedException($"the request is not approved (approval: {(ticket.Approval.Length == 0 ? "none" : ticket.Approval)}).");
        }

        var sysGroup = ticket.Fields.GetValueOrDefault(via + GroupVariable) ?? string.Empty;
        var action = ticket.Fields.GetValueOrDefault(via + ActionVariable) is { Length: > 0 } value ? value.ToLowerInvariant() : CatalogRequest.Add;
        if (sysGroup.Length == 0)
        {
            throw new RequestRefusedException("the requested item names no group.");
        }

        if (!string.Equals(sysGroup, message.Property(ServiceNowWebhookIntake.Properties.Group), StringComparison.OrdinalIgnoreCase)
            || action != message.Property(ServiceNowWebhookIntake.Properties.Action))
        {
            throw new RequestRefusedException("the request names a different group or action than the requested item.");
        }

        if (action is not (CatalogRequest.Add or CatalogRequest.Remove))
        {
            throw new RequestRefusedException($"the action '{action}' is neither add nor remove.");
        }

        var groupId = await tickets.EntraGroupIdAsync(sysGroup, cancellationToken)
            ?? throw new RequestRefusedException("the group is not an Entra ID group (its sys_user_group carries no Entra object id).");
        var group = await directory.GetGroupAsync(groupId, cancellationToken);
        if (group is null || group.Removed is not null)
        {
            throw new RequestRefusedException($"the Entra ID group {groupId} no longer exists.");
        }

        var groupName = group.DisplayName ?? groupId;
        if (!options.Value.Allows(groupId, group.DisplayName))
        {
            throw new RequestRefusedException($"the group {groupName} is not one EntraSnow may change from the catalog (not on the access request allow-list).");
        }

        var user = await tickets.ResolveUserAsync(ticket.RequestedFor, cancellationToken)
            ?? throw new RequestRefusedException("the person it is for has no matching Entra ID account.");
        var name = user.UserPrincipalName ?? user.Id;
        if (action == CatalogRequest.Add)
        {
            await fulfilment.AddAsync(groupId, user.Id, ticket.Number, cancellationToken);
            return $"EntraSnow: {name} was added to the Entra ID group {groupName} ({groupId}).";
        }

        await fulfilment.RemoveAsync(groupId, user.Id, ticket.Number, cancellationToken);
        return $"EntraSnow: {name} was removed from the Entra ID group {groupName} ({groupId}).";
    }
}
