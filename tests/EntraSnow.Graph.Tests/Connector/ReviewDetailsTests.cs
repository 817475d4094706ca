using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

/// <summary>The inactive sweep's reviewer details (manager, group count) read in bulk against the emulator, which keeps Graph's limits.</summary>
public sealed class ReviewDetailsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Details_of_300_accounts_cost_two_batch_calls_and_one_more_for_the_account_beyond_the_expansion_limit()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 300, Groups = 30, GroupsPerUser = 2, RiskDetections = 0, ReferenceTime = Now });
        var users = seeded.UserIds;
        for (var i = 1; i < users.Count; i++)
        {
            graph.Emulator.SetUserManager(users[i], users[i - 1]);
        }

        graph.Emulator.SetUserManager(users[0], null);
        var busy = users[7];
        foreach (var group in seeded.GroupIds.Where(g => !graph.Emulator.GroupMemberIds(g).Contains(busy)).Take(25))
        {
            await graph.Emulator.AddGroupMemberAsync(group, busy);
        }

        var gone = await graph.Emulator.CreateUserAsync("Gone Soon");
        await graph.Emulator.HardDeleteUserAsync(gone);
        graph.Calls.Reset();

        var details = await graph.Directory.GetReviewDetailsAsync([.. users, gone]);

        // 301 ids: 21 lists of 15 (42 requests) in three $batch calls of 20, then the one account showing 20 groups, counted with $count.
        Assert.Equal(4, graph.Calls.Requests);
        Assert.Equal(300, details.Count);
        Assert.False(details.ContainsKey(gone));
        var memberships = seeded.GroupIds.SelectMany(graph.Emulator.GroupMemberIds).GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(memberships[busy] > 20);
        Assert.All(users, id => Assert.Equal(memberships.GetValueOrDefault(id), details[id].GroupCount));
        Assert.Null(details[users[0]].ManagerName);
        Assert.All(users.Skip(1).Select((id, i) => (id, manager: users[i])),
            p => Assert.Equal(graph.Emulator.GetUser(p.manager)!["displayName"]!.GetValue<string>(), details[p.id].ManagerName));
    }

    [Fact]
    public async Task Throttled_and_failed_requests_inside_the_batch_are_retried_alone_and_no_account_is_skipped()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 150, Groups = 10, GroupsPerUser = 3, RiskDetections = 0, ReferenceTime = Now });
        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, Count = 3, RetryAfter = TimeSpan.FromSeconds(7), InsideBatch = true });
        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Unavailable, Count = 2, InsideBatch = true });
        graph.Calls.Reset();

        var details = await graph.Directory.GetReviewDetailsAsync(seeded.UserIds);

        // 150 ids: 20 requests in one $batch; the 5 refused ones again on their own, together, after the longest wait asked for.
        Assert.Equal(0, graph.Server.Faults.Pending);
        Assert.Equal(2, graph.Calls.Requests);
        Assert.Equal([TimeSpan.FromSeconds(7)], graph.Delays.Waits);
        Assert.Equal(seeded.UserIds.Order(), details.Keys.Order());
        Assert.All(seeded.UserIds, id => Assert.Equal(3, details[id].GroupCount));
    }
}
