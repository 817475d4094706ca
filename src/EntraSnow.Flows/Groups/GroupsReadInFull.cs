using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// The groups a full delta run (from scratch, or an expired link read again) has seen, noted page by page in the
/// checkpoint store and settled one by one once the last page is done: each is then read in full on its own, so the
/// members of one group spread over several pages are never gathered, no run holds every group's members, and members
/// who left unseen are found (<see cref="MembershipChangeRecorder.AddMembersGoneAsync"/>). Notes outlive a killed host:
/// the run settles what is left when it goes on.
/// </summary>
internal sealed class GroupsReadInFull(ICheckpointStore checkpoints, GroupAdoption adoption)
{
    private const string NotePrefix = "groups-delta:read:";

    // Adoption match values of the noted groups (name, mail) with the groups that have them: two Entra groups of one
    // name adopt no record, whichever page each came on.
    private const string MatchPrefix = "groups-delta:match:";

    /// <summary>Notes a group of a page; a later page carrying the same group adds the properties the first one lacked.</summary>
    public async Task NoteAsync(DirectoryGroup item, CancellationToken cancellationToken)
    {
        var key = NotePrefix + item.Id.ToLowerInvariant();
        var noted = await checkpoints.GetAsync(key, cancellationToken) is { } json ? JsonSerializer.Deserialize<NotedGroup>(json) : null;
        var merged = new NotedGroup(item.Id, item.DisplayName ?? noted?.DisplayName, item.Description ?? noted?.Description, item.Mail ?? noted?.Mail,
            item.SecurityEnabled ?? noted?.SecurityEnabled, item.IsAssignableToRole ?? noted?.IsAssignableToRole);
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

    /// <summary>Up to <paramref name="count"/> groups still to settle (their properties as the pages carried them).</summary>
    public async Task<IReadOnlyList<DirectoryGroup>> NextAsync(int count, CancellationToken cancellationToken)
    {
        var groups = new List<DirectoryGroup>(count);
        await foreach (var note in checkpoints.ListAsync(NotePrefix, cancellationToken))
        {
            if (JsonSerializer.Deserialize<NotedGroup>(note.Value) is { } noted)
            {
                groups.Add(noted.ToGroup());
            }

            if (groups.Count == count)
            {
                break;
            }
        }

        return groups;
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

    public Task SettledAsync(string groupId, CancellationToken cancellationToken) =>
        checkpoints.DeleteAsync(NotePrefix + groupId.ToLowerInvariant(), cancellationToken);

    /// <summary>Once every group is settled: the match values go too.</summary>
    public async Task ForgetMatchesAsync(CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var match in checkpoints.ListAsync(MatchPrefix, cancellationToken))
        {
            keys.Add(match.Key);
        }

        foreach (var key in keys)
        {
            await checkpoints.DeleteAsync(key, cancellationToken);
        }
    }

    private sealed record NotedGroup(string Id, string? DisplayName, string? Description, string? Mail, bool? SecurityEnabled, bool? IsAssignableToRole)
    {
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
