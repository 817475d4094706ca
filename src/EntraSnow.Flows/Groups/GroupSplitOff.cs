using EntraSnow.Flows.Messaging;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// A group taken out of a delta run because ServiceNow refused it: a <c>group.sync</c> message of its own, retried and
/// dead-lettered by the usual rules, carrying what a full read of the group cannot see again (the members removed).
/// </summary>
internal static class GroupSplitOff
{
    public const string RemovedMembers = "group.removedMembers";
    public const string RemovedGroups = "group.removedGroups";

    /// <summary>"true" when the run that split the group off was the baseline reading (no change records).</summary>
    public const string Baseline = "group.baseline";

    public static ChangeMessage Message(ChangeMessage run, GroupChange change, bool baseline, string sessionKey, DateTimeOffset now) => new()
    {
        MessageId = $"group.retry:{change.Group.Id}:{run.MessageId}",
        SessionKey = sessionKey,
        Kind = MessageKinds.GroupSync,
        TenantId = run.TenantId,
        SubjectId = change.Group.Id,
        ChangedAt = now,
        CorrelationId = run.CorrelationId,
        Properties = new Dictionary<string, string>
        {
            [RemovedMembers] = string.Join(',', change.Removed),
            [RemovedGroups] = string.Join(',', change.GroupsRemoved),
            [Baseline] = baseline ? "true" : "false",
        },
    };

    public static IReadOnlyList<string> Ids(ChangeMessage message, string property) =>
        message.Property(property) is { Length: > 0 } ids ? ids.Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
}
