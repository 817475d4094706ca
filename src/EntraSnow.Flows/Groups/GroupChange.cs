using EntraSnow.Connectors.Graph;

namespace EntraSnow.Flows.Groups;

/// <summary>One group's net change over every page of a run.</summary>
internal sealed class GroupChange(DirectoryGroup first)
{
    public DirectoryGroup Group { get; private set; } = first;

    public HashSet<string> Added { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> Removed { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Groups nested in this one (members that are groups): they get change records, never sys_user_grmember rows.</summary>
    public HashSet<string> GroupsAdded { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> GroupsRemoved { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Set when other groups of the run have the same name: none of them adopts an existing record (<see cref="GroupAdoption"/>).</summary>
    public string? SharedMatch { get; set; }

    public void Merge(DirectoryGroup page)
    {
        // Later pages may carry only members: keep the properties we already have.
        Group = page with
        {
            DisplayName = page.DisplayName ?? Group.DisplayName,
            Description = page.Description ?? Group.Description,
            Mail = page.Mail ?? Group.Mail,
        };
        Apply(page.MembersAdded, page.MembersRemoved, Added, Removed);
        Apply(page.NestedGroupsAdded, page.NestedGroupsRemoved, GroupsAdded, GroupsRemoved);
    }

    private static void Apply(IReadOnlyList<string> added, IReadOnlyList<string> removed, HashSet<string> into, HashSet<string> outOf)
    {
        foreach (var id in added)
        {
            into.Add(id);
            outOf.Remove(id);
        }

        foreach (var id in removed)
        {
            outOf.Add(id);
            into.Remove(id);
        }
    }
}

/// <summary>Members whose users are not in ServiceNow yet: their users are queued, their groups looked at again later.</summary>
internal sealed class FollowUps
{
    private readonly Lock _gate = new();

    public HashSet<string> MissingUsers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

    public void Add(string userId, string groupId)
    {
        lock (_gate)
        {
            MissingUsers.Add(userId);
            Groups.Add(groupId);
        }
    }
}
