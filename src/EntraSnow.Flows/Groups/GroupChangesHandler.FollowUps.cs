using System.Globalization;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Groups;

/// <summary>Members whose users were not provisioned yet: their users asked for once, their groups looked at again later, a few rounds at most.</summary>
internal sealed partial class GroupChangesHandler
{
    private async Task QueueFollowUpsAsync(FollowUps followUps, ChangeMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var round = int.TryParse(message.Property(ProvisioningMessageProperties.FollowUp), out var n) ? n : 0;
        if (followUps.MissingUsers.Count == 0 || round >= settings.FollowUpAttempts)
        {
            return;
        }

        // A full sync has queued every user already, and a follow-up round asked once: asking again would only
        // dead-letter a user that cannot be provisioned once more.
        var now = clock.GetUtcNow();
        if (round == 0 && message.Property(ProvisioningMessageProperties.SyncRun) is null)
        {
            var users = followUps.MissingUsers.Select(id => new ChangeMessage
            {
                MessageId = $"user.sync:{message.CorrelationId}:{id}",
                SessionKey = id,
                Kind = MessageKinds.UserSync,
                TenantId = message.TenantId,
                SubjectId = id,
                ChangedAt = now,
                CorrelationId = message.CorrelationId,
            }).ToList();
            foreach (var chunk in users.Chunk(100))
            {
                await queue.SendAsync(QueueNames.UserChanges, chunk, cancellationToken);
            }
        }

        var nextRound = (round + 1).ToString(CultureInfo.InvariantCulture);
        foreach (var groupId in followUps.Groups)
        {
            var next = new ChangeMessage
            {
                MessageId = $"group.sync:{groupId}:{message.CorrelationId}:{nextRound}",
                SessionKey = DeltaSessionKey,
                Kind = MessageKinds.GroupSync,
                TenantId = message.TenantId,
                SubjectId = groupId,
                ChangedAt = now,
                CorrelationId = message.CorrelationId,
                Properties = new Dictionary<string, string> { [ProvisioningMessageProperties.FollowUp] = nextRound },
            };
            await queue.ScheduleAsync(QueueNames.GroupChanges, next, now + settings.FollowUpDelay * Math.Pow(2, round), cancellationToken);
        }

        logger.LogInformation("{Users} members not provisioned yet; {Groups} groups will be looked at again", followUps.MissingUsers.Count, followUps.Groups.Count);
    }
}
