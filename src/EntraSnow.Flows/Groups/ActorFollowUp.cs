using System.Globalization;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Graph often publishes the directory audit entry naming who changed a membership minutes after the change, so a record
/// written at once may say "actor not read". Such records get a follow-up on the group-changes queue: the group's audit
/// log is read again (<see cref="GroupChangeOptions.ActorFollowUpDelay"/> later, at most
/// <see cref="GroupChangeOptions.ActorFollowUpAttempts"/> times) and the actor it names is written into the record's
/// description, with a work note saying so. The record's own words are the proof it was done: a record that names its
/// actor already is left alone, so a redelivered or doubled follow-up adds nothing. A summary record (a bulk change past
/// the cap) is followed up the same way for the members it names, and gets every actor the log names for them.
/// </summary>
internal sealed class ActorFollowUp(
    IMessageQueue queue,
    IServiceNowTable serviceNow,
    IMembershipActors actors,
    IOptions<GroupChangeOptions> options,
    TimeProvider clock,
    ILogger<ActorFollowUp> logger)
{
    /// <summary>The records waiting for their actor, each as <c>{member}:{added|removed}:{transition}</c> (the rest of its correlation id), comma-separated.</summary>
    public const string Pending = "actors.pending";

    /// <summary>When the records were written: the audit entries looked for are of changes made by then.</summary>
    public const string ObservedAt = "actors.observedAt";

    /// <summary>Which look this is, from 1.</summary>
    public const string Round = "actors.round";

    /// <summary>Set when the records waiting are those a summary record names: its correlation id, the one record to write the actors into.</summary>
    public const string Summary = "actors.summary";

    // Service Bus keeps a message's properties under 64 KB: about 50 characters a record.
    private const int RecordsPerMessage = 500;

    /// <summary>One record waiting for its actor: the (group, member) transition its correlation id names.</summary>
    public sealed record Record(string MemberId, MembershipState Next)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{MemberId}:{(Next.IsMember ? "added" : "removed")}:{Next.Transitions}");

        public static Record? Parse(string value) =>
            value.Split(':') is [{ Length: > 0 } member, var direction, var n] && direction is "added" or "removed" && int.TryParse(n, CultureInfo.InvariantCulture, out var transitions)
                ? new Record(member, new MembershipState(direction == "added", transitions))
                : null;
    }

    /// <summary>Whether records written from <paramref name="lookup"/> without an actor are worth a follow-up.</summary>
    public bool Wanted(MembershipActorLookup lookup) => options.Value.ActorFollowUpAttempts > 0 && lookup.WorthAskingAgain;

    /// <summary>Schedules look <paramref name="round"/> for the group's <paramref name="records"/>, written at <paramref name="observedAt"/>.</summary>
    /// <param name="summary">The correlation id of the summary record that names <paramref name="records"/>; null when each has its own record.</param>
    public async Task ScheduleAsync(ChangeMessage cause, string groupId, IReadOnlyCollection<Record> records, DateTimeOffset observedAt, int round, string? summary,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (records.Count == 0 || round > settings.ActorFollowUpAttempts)
        {
            return;
        }

        foreach (var chunk in records.Select(r => r.ToString()).Order(StringComparer.Ordinal).Chunk(RecordsPerMessage))
        {
            var pending = string.Join(',', chunk);
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(summary + pending)))[..16];
            var properties = new Dictionary<string, string>
            {
                [Pending] = pending,
                [ObservedAt] = observedAt.ToString("O", CultureInfo.InvariantCulture),
                [Round] = round.ToString(CultureInfo.InvariantCulture),
            };
            if (summary is not null)
            {
                properties[Summary] = summary;
            }

            var message = new ChangeMessage
            {
                MessageId = $"{MessageKinds.GroupActorFollowUp}:{groupId.ToLowerInvariant()}:{hash}:{round.ToString(CultureInfo.InvariantCulture)}",
                // One follow-up of a group at a time: two never both find a record without its actor and both add it.
                SessionKey = $"group-actors:{groupId.ToLowerInvariant()}",
                Kind = MessageKinds.GroupActorFollowUp,
                TenantId = cause.TenantId,
                SubjectId = groupId,
                ChangedAt = observedAt,
                CorrelationId = cause.CorrelationId,
                Properties = properties,
            };
            await queue.ScheduleAsync(QueueNames.GroupChanges, message, clock.GetUtcNow() + settings.ActorFollowUpDelay, cancellationToken);
        }

        logger.LogInformation("{Count} change records of group {GroupId} do not name who made the change yet: the directory audit log is read again in {Delay} (look {Round} of {Attempts})",
            records.Count, groupId, settings.ActorFollowUpDelay, round, settings.ActorFollowUpAttempts);
    }

    /// <summary>One look: the group's audit log read once; each record whose actor it names gets it; the others wait for the next look, if any.</summary>
    public async Task HandleAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var groupId = message.SubjectId;
        var records = (message.Property(Pending) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Record.Parse).OfType<Record>().ToList();
        var observedAt = DateTimeOffset.TryParse(message.Property(ObservedAt), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : message.ChangedAt;
        var round = int.TryParse(message.Property(Round), CultureInfo.InvariantCulture, out var n) ? n : 1;
        if (records.Count == 0)
        {
            throw new PermanentFailureException($"The actor follow-up of group {groupId} names no change record ({Pending}).");
        }

        var lookup = await actors.ReadAsync(groupId, records.Count, observedAt, cancellationToken);
        var summary = message.Property(Summary);
        if (summary is not null)
        {
            await NameSummaryActorsAsync(message, groupId, summary, records, lookup, observedAt, round, cancellationToken);
            return;
        }

        var unnamed = new List<Record>();
        var named = 0;
        foreach (var record in records)
        {
            if (lookup.ActorOf(record.MemberId, record.Next.IsMember) is not { } actor)
            {
                unnamed.Add(record);
            }
            else if (await NameActorAsync(MembershipChangeRecorder.CorrelationId(groupId, record.MemberId, record.Next), actor, cancellationToken))
            {
                named++;
            }
        }

        logger.LogInformation("The directory audit log named who made {Named} of {Count} changes of group {GroupId} (look {Round})", named, records.Count, groupId, round);
        if (unnamed.Count == 0)
        {
            return;
        }

        if (lookup.WorthAskingAgain && round < options.Value.ActorFollowUpAttempts)
        {
            await ScheduleAsync(message, groupId, unnamed, observedAt, round + 1, summary: null, cancellationToken);
            return;
        }

        logger.LogWarning("After {Round} looks the directory audit log names nobody for {Count} changes of group {GroupId}: their change records keep saying \"{ActorNotRead}\"",
            round, unnamed.Count, groupId, ChangeRequestText.ActorNotRead);
    }

    /// <summary>A summary record gets every actor the log names for the members it names, once; with none named yet, it waits for the next look.</summary>
    private async Task NameSummaryActorsAsync(ChangeMessage message, string groupId, string summary, List<Record> records, MembershipActorLookup lookup,
        DateTimeOffset observedAt, int round, CancellationToken cancellationToken)
    {
        var who = records.Select(r => lookup.WhoOf(r.MemberId, r.Next.IsMember)).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (who.Count > 0)
        {
            await NameActorAsync(summary, string.Join(", ", who), cancellationToken);
            return;
        }

        if (lookup.WorthAskingAgain && round < options.Value.ActorFollowUpAttempts)
        {
            await ScheduleAsync(message, groupId, records, observedAt, round + 1, summary, cancellationToken);
            return;
        }

        logger.LogWarning("After {Round} looks the directory audit log names nobody for the members summary {Summary} of group {GroupId} names: it keeps saying \"{ActorNotRead}\"",
            round, summary, groupId, ChangeRequestText.ActorNotRead);
    }

    /// <summary>Writes the actor into the record that still says "actor not read"; false when it is gone or names someone already.</summary>
    private async Task<bool> NameActorAsync(string correlationId, string actor, CancellationToken cancellationToken)
    {
        var record = await serviceNow.FindAsync(MembershipChangeRecorder.Table, EncodedQuery.Where("correlation_id", correlationId), ["sys_id", "number", "description"],
            cancellationToken);
        if (record?["description"] is not { } description || ChangeRequestText.WithActor(description, actor) is not { } updated)
        {
            return false;
        }

        await serviceNow.UpdateAsync(MembershipChangeRecorder.Table, record.SysId, new Dictionary<string, string?>
        {
            ["description"] = updated,
            ["work_notes"] = $"Changed by: {actor}. The directory audit log named who made this change after the record was written; EntraSnow added it to the description.",
        }, cancellationToken);
        logger.LogInformation("Change {Number} now names who made it: {Actor}", record["number"], actor);
        return true;
    }
}
