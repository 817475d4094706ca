using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

public sealed class ThrottlingTests
{
    [Fact]
    public async Task A_429_with_retry_after_is_waited_out_for_exactly_that_long()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[0];
        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, RetryAfter = TimeSpan.FromSeconds(7) });

        var user = await graph.Directory.GetUserAsync(userId);

        Assert.NotNull(user);
        Assert.Equal([TimeSpan.FromSeconds(7)], graph.Delays.Waits);
        Assert.Equal(2, graph.Calls.Requests);
        Assert.Equal(1, graph.Calls.Throttled);
    }

    [Fact]
    public async Task A_429_without_retry_after_backs_off_exponentially()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[0];
        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, Count = 2 });

        Assert.NotNull(await graph.Directory.GetUserAsync(userId));

        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], graph.Delays.Waits);
    }

    [Fact]
    public async Task A_write_throttled_once_is_sent_again_with_its_body()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 1, GroupsPerUser = 0 });
        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Unavailable, PathContains = "members" });

        await graph.Directory.AddGroupMemberAsync(seeded.GroupIds[0], seeded.UserIds[1]);

        Assert.Equal([seeded.UserIds[1]], graph.Emulator.GroupMemberIds(seeded.GroupIds[0]));
        Assert.Equal(2, graph.Calls.Requests);
    }

    [Fact]
    public async Task Graph_still_unavailable_after_the_retries_surfaces_as_transient()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[0];
        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Unavailable, Count = 10 });

        await Assert.ThrowsAsync<GraphUnavailableException>(() => graph.Directory.GetUserAsync(userId));

        Assert.Equal(5, graph.Calls.Requests);
    }

    [Fact]
    public async Task A_retry_after_longer_than_the_connector_waits_is_handed_to_the_caller()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[0];
        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, RetryAfter = TimeSpan.FromMinutes(5) });

        var failure = await Assert.ThrowsAsync<GraphUnavailableException>(() => graph.Directory.GetUserAsync(userId));

        Assert.Equal(TimeSpan.FromMinutes(5), failure.RetryAfter);
        Assert.Empty(graph.Delays.Waits);
    }

    [Fact]
    public async Task Throttled_items_inside_a_batch_are_retried_alone_after_their_retry_after()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 10, Groups = 0 });
        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, Count = 3, RetryAfter = TimeSpan.FromSeconds(3), InsideBatch = true });

        var users = await graph.Directory.GetUsersAsync(seeded.UserIds);

        Assert.Equal(seeded.UserIds.Order(), users.Select(u => u.Id).Order());
        Assert.Equal(2, graph.Calls.Requests);
        Assert.Equal([TimeSpan.FromSeconds(3)], graph.Delays.Waits);
    }
}
