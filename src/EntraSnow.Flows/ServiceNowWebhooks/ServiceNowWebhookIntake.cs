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

        var message = new ChangeMessage
        {
            MessageId = $"{kind}:{request.Table}:{request.SysId}",
            SessionKey = request.RequestedFor,
            Kind = kind,
            TenantId = "servicenow",
            SubjectId = request.SysId,
            ChangedAt = clock.GetUtcNow(),
            CorrelationId = correlationId,
            Properties = properties,
        };
        await queue.SendAsync(queueName, [message], cancellationToken);
        logger.LogInformation("Queued {Kind} for {Table} {Number} to {Queue} {CorrelationId}", kind, request.Table, request.Number, queueName, correlationId);
    }
}
