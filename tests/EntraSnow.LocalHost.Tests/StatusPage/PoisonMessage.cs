using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Queueing;

namespace EntraSnow.LocalHost.Tests.StatusPage;

/// <summary>A dead letter on <c>user-changes</c> for the status page to show, put there as a consumer would.</summary>
internal static class PoisonMessage
{
    public const string Reason = "PermanentFailure";
    public const string Description = "department 'Nowhere' not found";

    /// <returns>The dead letter's id, as the page and its replay route name it.</returns>
    public static async Task<long> DeadLetterAsync(SqliteQueueStore queues, string subject)
    {
        await queues.SendAsync(QueueNames.UserChanges, [new ChangeMessage
        {
            MessageId = "poison-" + subject, SessionKey = subject, Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = subject,
            ChangedAt = DateTimeOffset.UtcNow, CorrelationId = "c-" + subject,
        }]);
        await queues.DeadLetterAsync((await queues.ReceiveAsync(QueueNames.UserChanges))!, Reason, Description);
        return (await queues.ListDeadLettersAsync(QueueNames.UserChanges)).Single(d => d.SubjectId == subject).Sequence;
    }
}
