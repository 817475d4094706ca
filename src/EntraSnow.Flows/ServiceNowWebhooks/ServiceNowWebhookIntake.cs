using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.ServiceNowWebhooks;

/// <summary>
/// Queues a verified catalog request for its consumer. The message carries the ticket's pointers only (no secret, no
/// free text); its id is the ticket, so the same ticket sent twice is one piece of work; its session is the person it
/// is for, so two requests about one person never run at once.
/// </summary>
public sealed class ServiceNowWebhookIntake(IMessageQueue queue, TimeProvider clock, ILogger<ServiceNowWebhookIntake> logger)
{
    public static class Properties
    {
        public const string Table = "table";
        public const string Number = "number";
        public const string RequestedFor = "requested_for";
        public const string RequestedBy = "requested_by";
        public const string Group = "group";
        public const string Action = "action";
        public const string RequestId = "request_id";
        public const string Approval = "approval";
    }

    public async Task AcceptAsync(CatalogRequest request, string requestId, string correlationId, CancellationToken cancellationToken)
    {
        var (queueName, kind) = request.Kind switch
        {
            CatalogRequestKind.PasswordReset => (QueueNames.PasswordResets, MessageKinds.PasswordReset),
            _ => (QueueNames.AccessRequests, MessageKinds.AccessRequest),
        };
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Properties.Table] = request.Table,
            [Properties.Number] = request.Number,
            [Properties.RequestedFor] = request.RequestedFor,
            [Properties.RequestedBy] = request.RequestedBy,
            [Properties.RequestId] = requestId,
        };
        if (request.Group is not null)
        {
            properties[Properties.Group] = request.Group;
            properties[Properties.Action] = request.Action ?? CatalogRequest.Add;
        }

        await SendAsync(queueName, kind, $"{kind}:{request.Table}:{request.SysId}", request.RequestedFor, request.SysId, properties, request.Number, correlationId, cancellationToken);
    }

    /// <summary>
    /// Queues ServiceNow's decision on a change EntraSnow opened, on <c>access-requests</c>: its consumer already
    /// changes memberships on behalf of tickets, and the six queues are a deployed contract (infra, docs, the Functions
    /// triggers), so the decision is a message kind there rather than a seventh queue. Its id is the change and the
    /// decision: the same decision sent twice is one piece of work; its session is the change.
    /// </summary>
    public Task AcceptAsync(ChangeDecision decision, string requestId, string correlationId, CancellationToken cancellationToken)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Properties.Table] = ChangeDecision.Table,
            [Properties.Number] = decision.Number,
            [Properties.Approval] = decision.Approval,
            [Properties.RequestId] = requestId,
        };
        return SendAsync(QueueNames.AccessRequests, MessageKinds.ChangeDecision, $"{MessageKinds.ChangeDecision}:{decision.SysId}:{decision.Approval}",
            decision.SysId, decision.SysId, properties, decision.Number, correlationId, cancellationToken);
    }

    private async Task SendAsync(string queueName, string kind, string messageId, string sessionKey, string sysId, Dictionary<string, string> properties,
        string number, string correlationId, CancellationToken cancellationToken)
    {
        var message = new ChangeMessage
        {
            MessageId = messageId,
            SessionKey = sessionKey,
            Kind = kind,
            TenantId = "servicenow",
            SubjectId = sysId,
            ChangedAt = clock.GetUtcNow(),
            CorrelationId = correlationId,
            Properties = properties,
        };
        await queue.SendAsync(queueName, [message], cancellationToken);
        logger.LogInformation("Queued {Kind} for {Table} {Number} to {Queue} {CorrelationId}", kind, properties[Properties.Table], number, queueName, correlationId);
    }
}
