using System.Globalization;
using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// The groups a full delta run (from scratch, or an expired link read again) has seen, noted page by page in the
/// checkpoint store with the members each page listed, and settled a chunk at a time once the last page is done
/// (<see cref="GroupChunkComparison"/>): a group's members spread over several pages are gathered from the notes, not
/// read again from Graph, no run holds more than a chunk of groups' members, and members who left unseen are found
/// (<see cref="MembershipChangeRecorder.AddMembersGoneAsync"/>). Notes outlive a killed host: the run settles what is
/// left when it goes on.
/// </summary>
internal sealed class GroupsReadInFull(ICheckpointStore checkpoints, GroupAdoption adoption)
{
    private const string NotePrefix = "groups-delta:read:";

    // The members a page listed for a group, keyed by group, page and part: a page read again rewrites its own notes.
    private const string MembersPrefix = "groups-delta:members:";

    // Adoption match values of the noted groups (name, mail) with the groups that have them: two Entra groups of one
    // name adopt no record, whichever page each came on.
    private const string MatchPrefix = "groups-delta:match:";

    // Member ids per note: a checkpoint value stays under what one Azure Table property holds (64 KiB of UTF-16).
    private const int MembersPerNote = 700;

    /// <summary>
    /// Notes a group of a page and the members the page lists for it; a later page carrying the same group adds the
    /// properties the first one lacked and its own members.
    /// </summary>
    /// <param name="page">The page's number in the run: a page read again (a resumed run) rewrites, never adds to, its notes.</param>
    public async Task NoteAsync(DirectoryGroup item, int page, CancellationToken cancellationToken)
    {
        var key = NotePrefix + item.Id.ToLowerInvariant();
        var noted = await checkpoints.GetAsync(key, cancellationToken) is { } json ? JsonSerializer.Deserialize<NotedGroup>(json) : null;
        // A note without pages was written before members were noted: it stays so, and its members are read from Graph.
        var pages = noted is null ? [] : noted.Pages;
        var listed = item.MembersAdded.Count + item.NestedGroupsAdded.Count;
        var known = pages is null || listed == 0 || pages.Contains(page);
        var merged = new NotedGroup(item.Id, item.DisplayName ?? noted?.DisplayName, item.Description ?? noted?.Description, item.Mail ?? noted?.Mail,
            item.SecurityEnabled ?? noted?.SecurityEnabled, item.IsAssignableToRole ?? noted?.IsAssignableToRole)
        {
            Pages = known ? pages : [.. pages!, page],
            Members = (noted?.Members ?? 0) + (known ? 0 : listed),
        };
        if (listed > 0)
        {
            await NoteMembersAsync(item, page, cancellationToken);
        }

        if (merged == noted)
        {
            return;
        }

        await checkpoints.SetAsync(key, JsonSerializer.Serialize(merged), cancellationToken);
        foreach (var (field, value) in adoption.MatchValues(merged.ToGroup()))
        {
            var matchKey = $"{MatchPrefix}{field}:{value.ToLowerInvariant()}";
            var ids = (await checkpoints.GetAsync(matchKey, cancellationToken))?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
            if (!ids.Contains(item.Id, StringComparer.OrdinalIgnoreCase))
            {
                await checkpoints.SetAsync(matchKey, string.Join(',', ids.Append(item.Id)), cancellationToken);
            }
        }
    }

    /// <summary>
    /// The next groups to settle (their properties as the pages carried them, and their members gathered from every
    /// page): up to <paramref name="count"/> groups, fewer once they list <paramref name="maxMembers"/> members (always one).
    /// </summary>
    public async Task<IReadOnlyList<NotedGroupRead>> NextAsync(int count, int maxMembers, CancellationToken cancellationToken)
    {
        var noted = new List<NotedGroup>(count);
        var members = 0;
        await foreach (var note in checkpoints.ListAsync(NotePrefix, cancellationToken))
        {
            if (JsonSerializer.Deserialize<NotedGroup>(note.Value) is not { } group)
            {
                continue;
            }

            if (noted.Count > 0 && members + group.Members > maxMembers)
            {
                break;
            }

            noted.Add(group);
            members += group.Members;
            if (noted.Count == count)
            {
                break;
            }
        }

        var groups = new List<NotedGroupRead>(noted.Count);
        foreach (var group in noted)
        {
            groups.Add(await ReadAsync(group, cancellationToken));
        }

        return groups;
    }

    /// <summary>Whether any noted group is still to settle.</summary>
    public async Task<bool> AnyLeftAsync(CancellationToken cancellationToken)
    {
        await foreach (var _ in checkpoints.ListAsync(NotePrefix, cancellationToken))
        {
            return true;
        }

        return false;
    }

    /// <summary>Why the group may not adopt a record by its name or mail: other groups of the run share it (null when none do).</summary>
    public async Task<string?> SharedMatchAsync(DirectoryGroup group, CancellationToken cancellationToken)
    {
        foreach (var (field, value) in adoption.MatchValues(group))
        {
            var ids = (await checkpoints.GetAsync($"{MatchPrefix}{field}:{value.ToLowerInvariant()}", cancellationToken))?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
            if (ids.Length > 1)
            {
                return GroupAdoption.SharedMatch(field, value, ids);
            }
        }

        return null;
    }

    public async Task SettledAsync(string groupId, CancellationToken cancellationToken)
    {
        await DeleteAllAsync(MembersKey(groupId), cancellationToken);
        await checkpoints.DeleteAsync(NotePrefix + groupId.ToLowerInvariant(), cancellationToken);
    }

    /// <summary>
    /// Forgets every note a full read left behind; called when a new full read starts (never when a run goes on). Notes
    /// are only written by full reads, and only one run is current: notes found then are an abandoned run's (dead-lettered,
    /// or replaced by a new from-scratch run), read before groups were deleted or members left since. Settled as the new
    /// run's own, they would write a deleted group again and keep members who left. Returns how many notes went.
    /// </summary>
    public async Task<int> ForgetAbandonedAsync(CancellationToken cancellationToken) =>
        await DeleteAllAsync(NotePrefix, cancellationToken) + await DeleteAllAsync(MembersPrefix, cancellationToken) + await DeleteAllAsync(MatchPrefix, cancellationToken);

    /// <summary>Once every group is settled: the match values go too.</summary>
    public async Task ForgetMatchesAsync(CancellationToken cancellationToken) => await DeleteAllAsync(MatchPrefix, cancellationToken);

    private async Task NoteMembersAsync(DirectoryGroup item, int page, CancellationToken cancellationToken)
    {
        var entries = item.MembersAdded.Select(id => new NotedMember(id, false)).Concat(item.NestedGroupsAdded.Select(id => new NotedMember(id, true)));
        var part = 0;
        foreach (var chunk in entries.Chunk(MembersPerNote))
        {
            await checkpoints.SetAsync($"{MembersKey(item.Id)}{page.ToString("D6", CultureInfo.InvariantCulture)}:{part++:D3}", JsonSerializer.Serialize(chunk), cancellationToken);
        }
    }

    private async Task<NotedGroupRead> ReadAsync(NotedGroup group, CancellationToken cancellationToken)
    {
        var users = new List<string>(group.Members);
        var nested = new List<string>();
        await foreach (var note in checkpoints.ListAsync(MembersKey(group.Id), cancellationToken))
        {
            foreach (var member in JsonSerializer.Deserialize<NotedMember[]>(note.Value) ?? [])
            {
                (member.IsGroup ? nested : users).Add(member.Id);
            }
        }

        var read = group.ToGroup() with { MembersAdded = users, NestedGroupsAdded = nested };
        // Noted before the pages' members were kept (an older version's unfinished run): its members are read from Graph.
        return new NotedGroupRead(read, MembersNoted: group.Pages is not null);
    }

    private static string MembersKey(string groupId) => $"{MembersPrefix}{groupId.ToLowerInvariant()}:";

    private async Task<int> DeleteAllAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var note in checkpoints.ListAsync(prefix, cancellationToken))
        {
            keys.Add(note.Key);
        }

        foreach (var key in keys)
        {
            await checkpoints.DeleteAsync(key, cancellationToken);
        }

        return keys.Count;
    }

    private sealed record NotedMember(string Id, bool IsGroup);

    private sealed record NotedGroup(string Id, string? DisplayName, string? Description, string? Mail, bool? SecurityEnabled, bool? IsAssignableToRole)
    {
        /// <summary>The pages that listed members of the group; null in a note written before members were noted.</summary>
        public int[]? Pages { get; init; }

        /// <summary>Members noted over those pages.</summary>
        public int Members { get; init; }

        public DirectoryGroup ToGroup() => new()
        {
            Id = Id,
            DisplayName = DisplayName,
            Description = Description,
            Mail = Mail,
            SecurityEnabled = SecurityEnabled,
            IsAssignableToRole = IsAssignableToRole,
        };
    }
}

/// <summary>A group a full run read, with every member its pages listed; <paramref name="MembersNoted"/> false when they must be read from Graph.</summary>
internal sealed record NotedGroupRead(DirectoryGroup Group, bool MembersNoted);
