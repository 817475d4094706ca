using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

/// <summary>Membership changes leave directory audit entries in the emulator; the connector reads a group's, in a window, newest first.</summary>
public sealed class DirectoryAuditTests
{
    private static async Task<(ConnectorHarness Graph, string GroupId, string OtherGroupId, IReadOnlyList<string> UserIds)> StartAsync(
        int users = 4, Action<GraphEmulatorOptions>? options = null)
    {
        var graph = await ConnectorHarness.StartAsync(options, sharedClock: true);
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = users, Groups = 0 });
        var groupId = await graph.Emulator.CreateGroupAsync("Finance-Approvers");
        var otherGroupId = await graph.Emulator.CreateGroupAsync("Auditors");
        return (graph, groupId, otherGroupId, seeded.UserIds);
    }

    private static DirectoryAuditQuery Window(ConnectorHarness graph, string groupId, TimeSpan back, int max = 100) =>
        new(groupId, graph.Delays.GetUtcNow() - back, graph.Delays.GetUtcNow(), max);

    [Fact]
    public async Task Adds_and_removes_are_read_for_the_group_newest_first_with_who_made_them()
    {
        var (graph, groupId, otherGroupId, users) = await StartAsync();
        await using var _ = graph;
        await graph.Emulator.AddGroupMemberAsync(groupId, users[0], AuditInitiator.User("it.admin@contoso.example"));
        await graph.Emulator.AddGroupMemberAsync(otherGroupId, users[1], AuditInitiator.User("it.admin@contoso.example"));
        await Task.Delay(TimeSpan.FromSeconds(5), graph.Delays);
        await graph.Emulator.RemoveGroupMemberAsync(groupId, users[0], AuditInitiator.App("HR Sync"));

        var entries = await graph.Directory.GetDirectoryAuditsAsync(Window(graph, groupId, TimeSpan.FromHours(1)));

        Assert.Equal(["Remove member from group", "Add member to group"], entries.Select(e => e.Activity));
        Assert.Equal("HR Sync", entries[0].AppDisplayName);
        Assert.Null(entries[0].UserPrincipalName);
        Assert.Equal("it.admin@contoso.example", entries[1].UserPrincipalName);
        Assert.Null(entries[1].AppDisplayName);
        Assert.All(entries, e => Assert.Equal([users[0], groupId], e.Targets.Select(t => t.Id)));
        Assert.Equal("User", entries[1].Targets[0].Type);
        Assert.Equal(graph.Delays.GetUtcNow(), entries[0].ActivityDateTime);
        Assert.Equal(entries[0].ActivityDateTime - TimeSpan.FromSeconds(5), entries[1].ActivityDateTime);
        Assert.Equal("Success", entries[0].Result);
    }

    [Fact]
    public async Task Entries_outside_the_window_are_left_out()
    {
        var (graph, groupId, _, users) = await StartAsync();
        await using var _ = graph;
        await graph.Emulator.AddGroupMemberAsync(groupId, users[0]);
        await Task.Delay(TimeSpan.FromMinutes(30), graph.Delays);
        await graph.Emulator.AddGroupMemberAsync(groupId, users[1]);

        var entries = await graph.Directory.GetDirectoryAuditsAsync(Window(graph, groupId, TimeSpan.FromMinutes(10)));

        Assert.Equal(users[1], Assert.Single(entries).Targets[0].Id);
        Assert.Equal("sandbox.admin@contoso.example", entries[0].UserPrincipalName);
    }

    [Fact]
    public async Task A_member_added_through_the_API_is_audited_as_the_calling_application()
    {
        var (graph, groupId, _, users) = await StartAsync();
        await using var _ = graph;

        await graph.Directory.AddGroupMemberAsync(groupId, users[2]);
        var entries = await graph.Directory.GetDirectoryAuditsAsync(Window(graph, groupId, TimeSpan.FromHours(1)));

        var entry = Assert.Single(entries);
        Assert.Equal("EntraSnow", entry.AppDisplayName);
        Assert.Equal("entrasnow-sandbox", entry.AppId);
    }

    [Fact]
    public async Task A_long_log_is_read_a_page_of_999_at_a_time_up_to_the_cap()
    {
        var (graph, groupId, _, users) = await StartAsync(users: 1_005);
        await using var _ = graph;
        foreach (var user in users)
        {
            await graph.Emulator.AddGroupMemberAsync(groupId, user);
        }

        var before = graph.Calls.Requests;
        var entries = await graph.Directory.GetDirectoryAuditsAsync(Window(graph, groupId, TimeSpan.FromHours(1), max: 1_000));

        Assert.Equal(1_000, entries.Count);
        Assert.Equal(users[^1], entries[0].Targets[0].Id);
        Assert.Equal(2, graph.Calls.Requests - before);
        Assert.Equal(1_000, entries.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public async Task Without_AuditLog_Read_All_Graph_answers_403()
    {
        var (graph, groupId, _, _) = await StartAsync(options: o => o.DirectoryAuditsAvailable = false);
        await using var _ = graph;

        var refused = await Assert.ThrowsAsync<GraphRequestException>(() => graph.Directory.GetDirectoryAuditsAsync(Window(graph, groupId, TimeSpan.FromHours(1))));

        Assert.Equal(403, refused.StatusCode);
        Assert.Equal("Authorization_RequestDenied", refused.ErrorCode);
    }
}
