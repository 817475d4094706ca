using System.Globalization;
using System.Text;

namespace EntraSnow.Flows.Groups;

/// <summary>Who a membership change is about, as far as Graph and ServiceNow could say.</summary>
internal sealed record MemberFacts(string ObjectId, bool IsGroup, string? Name, string? SysUserId);

/// <summary>The words of a change record: a short description a service desk can scan, a description an auditor can follow.</summary>
internal static class ChangeRequestText
{
    public const string ActorNotRead = "actor not read";

    private const string ChangedBy = "Changed by: ";

    public static string ShortDescription(MemberFacts member, bool added, string groupName) =>
        Truncate($"Entra ID: {Label(member)} {(added ? "added to" : "removed from")} {groupName}", 160);

    public static string Description(MemberFacts member, bool added, string groupId, string groupName, DateTimeOffset observedAt, string source, string? actor)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{(member.IsGroup ? "Group" : "User")} {Label(member)} was {(added ? "added to" : "removed from")} the Entra ID group {groupName}.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Group: {groupName} (object id {groupId})");
        text.AppendLine(CultureInfo.InvariantCulture, $"Member: {MemberLine(member)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Observed: {observedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        text.AppendLine(CultureInfo.InvariantCulture, $"Source: {source}");
        text.Append(CultureInfo.InvariantCulture, $"{ChangedBy}{actor ?? ActorNotRead}");
        return text.ToString();
    }

    public static string SummaryShortDescription(string groupName, int added, int removed)
    {
        var parts = new List<string>();
        if (added > 0)
        {
            parts.Add($"{Counted(added, "member")} added to");
        }

        if (removed > 0)
        {
            parts.Add($"{Counted(removed, "member")} removed from");
        }

        return Truncate($"Entra ID: {string.Join(" and ", parts)} {groupName}", 160);
    }

    /// <summary>
    /// A summary's words: the run's changes so far, which Graph may spread over several pages (the record is brought up
    /// to date by each), so the text names the run, not a moment.
    /// </summary>
    /// <param name="earlier">Changes of the group recorded one by one earlier in the same delta run (its other pages).</param>
    public static string SummaryDescription(string groupId, string groupName, int added, int removed, IEnumerable<string> named, int more, int earlier,
        DateTimeOffset observedAt, string source, string? actors)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{added + removed} membership changes of the Entra ID group {groupName} were seen in one groups delta run: {added} added, {removed} removed.");
        text.AppendLine("One record stands for all of them (one record each above the configured cap would flood the change queue).");
        if (earlier > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"The same delta run recorded {Counted(earlier, "earlier change")} of this group one by one (Graph listed them on earlier pages); the cap counts the whole run.");
        }
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Group: {groupName} (object id {groupId})");
        foreach (var line in named)
        {
            text.AppendLine(line);
        }

        if (more > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"… and {more} more (the group's members in Entra ID, or EntraSnow's provisioning log, list them all).");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"Observed: {observedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        text.AppendLine(CultureInfo.InvariantCulture, $"Source: {source}");
        text.Append(CultureInfo.InvariantCulture, $"{ChangedBy}{actors ?? ActorNotRead}");
        return text.ToString();
    }

    /// <summary>Whether a description still says its actor was not read.</summary>
    public static bool LacksActor(string? description) => description?.Contains(ChangedBy + ActorNotRead, StringComparison.Ordinal) == true;

    /// <summary>Who the description says made the change; null when it says "actor not read" (or nothing).</summary>
    public static string? NamedActor(string? description)
    {
        var at = description?.LastIndexOf(ChangedBy, StringComparison.Ordinal) ?? -1;
        var actor = at < 0 ? null : description![(at + ChangedBy.Length)..];
        return actor is null or ActorNotRead ? null : actor;
    }

    /// <summary>The description naming <paramref name="actor"/> where it said "actor not read"; null when it names someone already.</summary>
    public static string? WithActor(string description, string actor)
    {
        var unread = ChangedBy + ActorNotRead;
        var at = description.LastIndexOf(unread, StringComparison.Ordinal);
        return at < 0 ? null : string.Concat(description.AsSpan(0, at), ChangedBy, actor, description.AsSpan(at + unread.Length));
    }

    private static string Counted(int count, string noun) => $"{count} {noun}{(count == 1 ? string.Empty : "s")}";

    private static string MemberLine(MemberFacts member)
    {
        if (member.IsGroup)
        {
            return $"group {member.Name ?? "(name not read)"} (object id {member.ObjectId})";
        }

        var sysUser = member.SysUserId is null ? "no sys_user in ServiceNow" : $"sys_user {member.SysUserId}";
        return $"{member.Name ?? "(user not found in Entra ID)"} (object id {member.ObjectId}; {sysUser})";
    }

    private static string Label(MemberFacts member) => member.Name ?? member.ObjectId;

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..(length - 1)] + "…";
}
