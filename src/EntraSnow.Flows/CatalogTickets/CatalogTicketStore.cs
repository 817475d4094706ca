using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ServiceNowWebhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.CatalogTickets;

/// <summary>
/// Reads catalog tickets back from ServiceNow, resolves their people to Entra users, and writes outcomes: a work note
/// and a closed state on the ticket (and, for a requested item, its open fulfilment tasks).
/// </summary>
public sealed class CatalogTicketStore(IServiceNowTable serviceNow, IDirectory directory, IOptions<ProvisioningOptions> provisioning, ILogger<CatalogTicketStore> logger)
{
    public const string UserTable = "sys_user";
    public const string TaskTable = "sc_task";
    public const string GroupTable = "sys_user_group";

    private static readonly string[] TicketFields = ["sys_id", "number", "state", "active", "approval", "requested_for", "opened_by", "request_item"];

    /// <summary>
    /// What every catalog consumer does around its own work: reads the ticket back (one that does not exist fails the
    /// message for good), leaves a closed one alone (a redelivery after the outcome was written), runs
    /// <paramref name="carryOut"/>, and closes the ticket complete with the work note it returns, or incomplete with
    /// <paramref name="refusal"/> and the reason when it refused (<see cref="RequestRefusedException"/>, a
    /// <see cref="CatalogTicket.Discrepancy"/> included). Connector failures become transient or permanent ones.
    /// </summary>
    /// <param name="what">What is asked, for the log (e.g. "password reset").</param>
    public async Task FulfilAsync(ChangeMessage message, IReadOnlyList<string> extraFields, string what, string refusal,
        Func<CatalogTicket, Task<string>> carryOut, CancellationToken cancellationToken)
    {
        try
        {
            var ticket = await ReadAsync(message, extraFields, cancellationToken)
                ?? throw new PermanentFailureException($"Ticket {message.Property("number")} ({message.SubjectId}) does not exist in ServiceNow.");
            if (ticket.Closed)
            {
                logger.LogInformation("{What} {Number} is already closed {CorrelationId}", what, ticket.Number, message.CorrelationId);
                return;
            }

            string outcome;
            try
            {
                outcome = ticket.Discrepancy is { } discrepancy ? throw new RequestRefusedException(discrepancy) : await carryOut(ticket);
            }
            catch (RequestRefusedException refused)
            {
                logger.LogWarning("Refused {What} {Number}: {Reason} {CorrelationId}", what, ticket.Number, refused.Reason, message.CorrelationId);
                await CloseAsync(ticket, complete: false, $"{refusal}: {refused.Reason}", cancellationToken);
                return;
            }

            await CloseAsync(ticket, complete: true, outcome, cancellationToken);
            logger.LogInformation("{What} {Number} done {CorrelationId}", what, ticket.Number, message.CorrelationId);
        }
        catch (Exception ex) when (FailureTranslation.Translate(ex) is { } translated && translated != ex)
        {
            throw translated;
        }
    }

    /// <summary>
    /// The ticket a queued request points at, checked against it (same number, same person, same requester; any
    /// difference is in <see cref="CatalogTicket.Discrepancy"/>); null when it does not exist.
    /// </summary>
    public async Task<CatalogTicket?> ReadAsync(ChangeMessage message, IReadOnlyList<string> extraFields, CancellationToken cancellationToken)
    {
        var table = message.Property(ServiceNowWebhookIntake.Properties.Table) ?? "sc_req_item";
        if (!CatalogRequest.Tables.Contains(table))
        {
            throw new PermanentFailureException($"'{table}' is not a catalog ticket table.");
        }

        var fields = TicketFields.Concat(extraFields).ToList();
        var record = await serviceNow.GetAsync(table, message.SubjectId, fields, cancellationToken);
        if (record is null)
        {
            return null;
        }

        var number = record["number"] ?? string.Empty;
        var requestedFor = record["requested_for"] ?? string.Empty;
        if (table == TaskTable && requestedFor.Length == 0 && record["request_item"] is { Length: > 0 } item
            && await serviceNow.GetAsync("sc_req_item", item, ["requested_for"], cancellationToken) is { } parent)
        {
            requestedFor = parent["requested_for"] ?? string.Empty;
        }

        var requestedBy = record["opened_by"] is { Length: > 0 } openedBy ? openedBy : message.Property(ServiceNowWebhookIntake.Properties.RequestedBy) ?? string.Empty;
        var ticket = new CatalogTicket(table, record.SysId, number, requestedFor, requestedBy, record["approval"] ?? string.Empty,
            TicketStates.IsClosed(record["state"]) || record["active"] == "false", record);

        string? discrepancy = null;
        if (!string.Equals(number, message.Property(ServiceNowWebhookIntake.Properties.Number), StringComparison.Ordinal))
        {
            discrepancy = $"The request named ticket {message.Property(ServiceNowWebhookIntake.Properties.Number)}, but this ticket is {number}.";
        }
        else if (!string.Equals(requestedFor, message.Property(ServiceNowWebhookIntake.Properties.RequestedFor), StringComparison.OrdinalIgnoreCase))
        {
            discrepancy = "The request was for a different person than the ticket's Requested for.";
        }
        else if (!string.Equals(requestedBy, message.Property(ServiceNowWebhookIntake.Properties.RequestedBy), StringComparison.OrdinalIgnoreCase))
        {
            discrepancy = "The request names a different requester than the ticket's Opened by.";
        }

        return ticket with { Discrepancy = discrepancy };
    }

    /// <summary>The Entra user behind a sys_user: by the Entra object id stored on it, else by its user name (the UPN).</summary>
    public async Task<DirectoryUser?> ResolveUserAsync(string sysUserId, CancellationToken cancellationToken)
    {
        var field = provisioning.Value.ObjectIdField;
        var user = await serviceNow.GetAsync(UserTable, sysUserId, ["sys_id", field, "user_name"], cancellationToken);
        if (user is null)
        {
            return null;
        }

        if (user[field] is { Length: > 0 } objectId && await directory.GetUserAsync(objectId, cancellationToken) is { } byId)
        {
            return byId;
        }

        return user["user_name"] is { Length: > 0 } userName && userName.Contains('@', StringComparison.Ordinal)
            ? await directory.GetUserAsync(userName, cancellationToken)
            : null;
    }

    /// <summary>The Entra object id stored on a sys_user_group (the group an access request names); null when it has none.</summary>
    public async Task<string?> EntraGroupIdAsync(string sysUserGroupId, CancellationToken cancellationToken)
    {
        var field = provisioning.Value.ObjectIdField;
        return await serviceNow.GetAsync(GroupTable, sysUserGroupId, ["sys_id", field], cancellationToken) is { } group && group[field] is { Length: > 0 } objectId
            ? objectId
            : null;
    }

    /// <summary>Whether the sys_user holds one of <paramref name="roleNames"/> (sys_user_has_role).</summary>
    public async Task<bool> HasAnyRoleAsync(string sysUserId, IReadOnlyCollection<string> roleNames, CancellationToken cancellationToken)
    {
        foreach (var roleName in roleNames)
        {
            var role = await serviceNow.FindAsync("sys_user_role", EncodedQuery.Where("name", roleName), ["sys_id"], cancellationToken);
            if (role is not null
                && await serviceNow.FindAsync("sys_user_has_role", EncodedQuery.Where("user", sysUserId).And("role", role.SysId), ["sys_id"], cancellationToken) is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Writes the work note and closes the ticket (complete or incomplete), and a requested item's open tasks with it.</summary>
    public async Task CloseAsync(CatalogTicket ticket, bool complete, string workNote, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string?>
        {
            ["work_notes"] = workNote,
            ["state"] = complete ? TicketStates.ClosedComplete : TicketStates.ClosedIncomplete,
        };
        await serviceNow.UpdateAsync(ticket.Table, ticket.SysId, fields, cancellationToken);
        if (ticket.Table != TaskTable)
        {
            await foreach (var task in serviceNow.QueryAsync(TaskTable, EncodedQuery.Where("request_item", ticket.SysId).And("active", "true"), ["sys_id"], cancellationToken))
            {
                await serviceNow.UpdateAsync(TaskTable, task.SysId, fields, cancellationToken);
            }
        }
    }
}
