using System.Collections.Concurrent;
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

/// <summary>
/// The run change records are written in: what it reads from, the page in hand, and how many membership changes of each
/// group it has recorded so far. Graph may spread a group's members over several pages of an incremental delta: the cap
/// on records per group (<see cref="GroupChangeOptions.MaxRecordsPerGroupPerRun"/>) counts the run, not the page, and a
/// group past it gets one summary record for the run (<see cref="BulkChangeSummaries"/>). The counts are saved with the
/// run's progress after each page, so a resumed run keeps counting.
/// </summary>
/// <param name="runKey">What the run read from (its delta link; read from scratch, its message id and start; a group read alone, its message id): stable while the run goes on.</param>
/// <param name="pageKey">The page in hand, stable when it is read again; a run of one reading passes its run key.</param>
internal sealed class RecordingRun(string runKey, string pageKey, IReadOnlyDictionary<string, int>? saved = null)
{
    public string RunKey { get; } = runKey;

    public string PageKey { get; } = pageKey;

    private readonly ConcurrentDictionary<string, int> _counts = new(saved ?? new Dictionary<string, int>(), StringComparer.OrdinalIgnoreCase);

    public int Before(string groupId) => _counts.GetValueOrDefault(groupId);

    public void Add(string groupId, int changes)
    {
        if (changes > 0)
        {
            _counts.AddOrUpdate(groupId, changes, (_, n) => n + changes);
        }
    }

    /// <summary>The counts to save; null when nothing was recorded (most runs), so the saved progress stays small.</summary>
    public Dictionary<string, int>? Snapshot() => _counts.IsEmpty ? null : new(_counts, StringComparer.OrdinalIgnoreCase);
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
