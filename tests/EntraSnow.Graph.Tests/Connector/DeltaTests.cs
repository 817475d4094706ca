using System.Text.Json.Nodes;
using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

public sealed class DeltaTests
{
    private static async Task<(List<DeltaPage<T>> Pages, string DeltaLink)> ReadAll<T>(IAsyncEnumerable<DeltaPage<T>> delta)
    {
        var pages = new List<DeltaPage<T>>();
        await foreach (var page in delta)
        {
            pages.Add(page);
        }

        return (pages, pages[^1].DeltaLink!);
    }

    [Fact]
    public async Task A_full_users_delta_returns_every_user_once_in_pages_and_ends_with_a_delta_link()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 450, Groups = 0 });

        var (pages, deltaLink) = await ReadAll(graph.Directory.GetUsersDeltaAsync(null));

        Assert.Equal(3, pages.Count);
        Assert.Equal(seeded.UserIds.Order(), pages.SelectMany(p => p.Items).Select(u => u.Id).Order());
        Assert.All(pages.SkipLast(1), p => Assert.Null(p.DeltaLink));
        Assert.Contains("$deltatoken=", deltaLink, StringComparison.Ordinal);
        Assert.Equal(3, graph.Calls.Requests);
        Assert.All(pages.SelectMany(p => p.Items).Skip(1), u => Assert.NotNull(u.UserPrincipalName));
        Assert.Contains(pages.SelectMany(p => p.Items), u => u.ManagerId is not null);
    }

    [Fact]
    public async Task A_delta_from_the_stored_link_returns_only_what_changed_including_soft_deletes()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 50, Groups = 0 });
        var (_, link) = await ReadAll(graph.Directory.GetUsersDeltaAsync(null));
        await graph.Emulator.RenameUserAsync(seeded.UserIds[3], "Renamed Person");
        await graph.Emulator.SoftDeleteUserAsync(seeded.UserIds[7]);

        var (pages, nextLink) = await ReadAll(graph.Directory.GetUsersDeltaAsync(link));

        var changes = pages.SelectMany(p => p.Items).ToDictionary(u => u.Id);
        Assert.Equal(2, changes.Count);
        Assert.Equal("Renamed Person", changes[seeded.UserIds[3]].DisplayName);
        Assert.Null(changes[seeded.UserIds[3]].Removed);
        Assert.Equal(RemovedReason.Changed, changes[seeded.UserIds[7]].Removed);
        Assert.False(pages[0].IsFullResync);
        Assert.NotEqual(link, nextLink);
    }

    [Fact]
    public async Task An_expired_delta_link_restarts_with_a_full_resync_instead_of_failing()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 30, Groups = 0 });
        var (_, link) = await ReadAll(graph.Directory.GetUsersDeltaAsync(null));
        graph.Emulator.ExpireDeltaTokens();

        var (pages, _) = await ReadAll(graph.Directory.GetUsersDeltaAsync(link));

        Assert.All(pages, p => Assert.True(p.IsFullResync));
        Assert.Equal(seeded.UserIds.Count, pages.Sum(p => p.Items.Count));
    }

    [Fact]
    public async Task A_delta_link_older_than_seven_days_answers_sync_state_not_found_and_the_connector_resyncs()
    {
        var emulatorClock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        // Tokens are not the point here (the emulator would expire them with its clock too).
        await using var server = await GraphEmulatorServer.StartAsync(o => o.RequireAuthorization = false, clock: emulatorClock);
        server.Seed(new GraphSeedSpec { Users = 12, Groups = 2, GroupsPerUser = 1 });
        await using var graph = await ConnectorHarness.ForServerAsync(server);
        var (_, link) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(null));

        emulatorClock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        var (pages, _) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(link));

        Assert.All(pages, p => Assert.True(p.IsFullResync));
        Assert.Equal(2, pages.Sum(p => p.Items.Count));
        Assert.Equal(12, pages.SelectMany(p => p.Items).Sum(g => g.MembersAdded.Count));
    }

    [Fact]
    public async Task Groups_delta_reports_the_whole_membership_first_then_members_added_and_removed()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 40, Groups = 3, GroupsPerUser = 1 });
        var groupId = seeded.GroupIds[0];
        var (first, link) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(null));
        var initial = first.SelectMany(p => p.Items).Single(g => g.Id == groupId);
        Assert.Equal(graph.Emulator.GroupMemberIds(groupId).Order(), initial.MembersAdded.Order());
        var leaving = initial.MembersAdded[0];
        var joining = seeded.UserIds.First(u => !initial.MembersAdded.Contains(u));
        await graph.Emulator.RemoveGroupMemberAsync(groupId, leaving);
        await graph.Emulator.AddGroupMemberAsync(groupId, joining);

        var (pages, _) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(link));

        var changed = Assert.Single(pages.SelectMany(p => p.Items));
        Assert.Equal(groupId, changed.Id);
        Assert.Equal([joining], changed.MembersAdded);
        Assert.Equal([leaving], changed.MembersRemoved);
    }

    [Fact]
    public async Task A_group_nested_in_another_shows_as_a_nested_group_not_a_user_member()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 4, Groups = 2, GroupsPerUser = 1 });
        var (parent, child) = (seeded.GroupIds[0], seeded.GroupIds[1]);
        var (_, link) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(null));

        await graph.Emulator.AddGroupMemberAsync(parent, child);
        var (added, next) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(link));
        await graph.Emulator.RemoveGroupMemberAsync(parent, child);
        var (removed, _) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(next));

        var afterAdd = added.SelectMany(p => p.Items).Single(g => g.Id == parent);
        Assert.Equal([child], afterAdd.NestedGroupsAdded);
        Assert.Empty(afterAdd.MembersAdded);
        Assert.Equal([child], removed.SelectMany(p => p.Items).Single(g => g.Id == parent).NestedGroupsRemoved);
    }

    [Fact]
    public async Task A_permanently_deleted_user_leaves_its_groups_and_shows_as_deleted()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 10, Groups = 1, GroupsPerUser = 1 });
        var (_, userLink) = await ReadAll(graph.Directory.GetUsersDeltaAsync(null));
        var (_, groupLink) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(null));

        await graph.Emulator.HardDeleteUserAsync(seeded.UserIds[2]);

        var (users, _) = await ReadAll(graph.Directory.GetUsersDeltaAsync(userLink));
        var (groups, _) = await ReadAll(graph.Directory.GetGroupsDeltaAsync(groupLink));
        Assert.Equal(RemovedReason.Deleted, users.SelectMany(p => p.Items).Single().Removed);
        Assert.Equal([seeded.UserIds[2]], groups.SelectMany(p => p.Items).Single().MembersRemoved);
        Assert.Null(await graph.Directory.GetUserAsync(seeded.UserIds[2]));
    }

    [Fact]
    public async Task A_user_changed_through_the_api_shows_up_in_the_next_delta()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 5, Groups = 0 });
        var (_, link) = await ReadAll(graph.Directory.GetUsersDeltaAsync(null));
        await graph.Emulator.ChangeUserAsync(seeded.UserIds[1], new JsonObject { ["department"] = "Legal" });

        var (pages, _) = await ReadAll(graph.Directory.GetUsersDeltaAsync(link));

        Assert.Equal("Legal", Assert.Single(pages.SelectMany(p => p.Items)).Department);
    }
}
