using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

public sealed class QueryTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Inactive_and_never_signed_in_users_are_found_500_a_page()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 1200, Groups = 0, NeverSignedInPercent = 10, ReferenceTime = Now });
        var cutoff = Now.AddDays(-30);
        var expectedInactive = seeded.UserIds.Count(id => LastSignIn(graph, id) is { } last && last <= cutoff);
        var expectedNever = seeded.UserIds.Count(id => LastSignIn(graph, id) is null && Created(graph, id) <= cutoff);

        var found = await graph.Directory.GetUsersSignedInBeforeAsync(cutoff).ToListAsync();

        Assert.Equal(expectedInactive, found.Count(u => u.LastSuccessfulSignIn is not null));
        Assert.Equal(expectedNever, found.Count(u => u.LastSuccessfulSignIn is null));
        Assert.All(found.Where(u => u.LastSuccessfulSignIn is not null), u => Assert.True(u.LastSuccessfulSignIn <= cutoff));
        // The second pass pages through every account created before the cutoff (all but the newest joiners).
        var createdBefore = seeded.UserIds.Count(id => Created(graph, id) <= cutoff);
        Assert.InRange(createdBefore, 1, seeded.UserIds.Count - 1);
        var expectedCalls = (int)Math.Ceiling(expectedInactive / 500.0) + (int)Math.Ceiling(createdBefore / 500.0);
        Assert.Equal(expectedCalls, graph.Calls.Requests);
    }

    private static DateTimeOffset Created(ConnectorHarness graph, string userId) =>
        DateTimeOffset.Parse(graph.Emulator.GetUser(userId)!["createdDateTime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset? LastSignIn(ConnectorHarness graph, string userId) =>
        graph.Emulator.GetUser(userId)!["signInActivity"]?["lastSuccessfulSignInDateTime"]?.GetValue<string>() is { } text
            ? DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    [Fact]
    public async Task Where_graph_refuses_500_a_page_the_sign_in_query_falls_back_to_120()
    {
        await using var graph = await ConnectorHarness.StartAsync(o => o.SignInActivityMaxPageSize = 120);
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 400, Groups = 0, NeverSignedInPercent = 0, ReferenceTime = Now });
        var cutoff = Now.AddDays(-10);

        var inactive = await graph.Directory.GetUsersSignedInBeforeAsync(cutoff).ToListAsync();

        Assert.NotEmpty(inactive);
        var signedInBefore = inactive.Count(u => u.LastSuccessfulSignIn is not null);
        var createdBefore = seeded.UserIds.Count(id => Created(graph, id) <= cutoff);
        // One refused request, then pages of 120 for both passes.
        Assert.Equal(1 + (int)Math.Ceiling(signedInBefore / 120.0) + (int)Math.Ceiling(createdBefore / 120.0), graph.Calls.Requests);
    }

    [Fact]
    public async Task Risk_detections_updated_after_a_time_come_a_page_per_request_never_faster_than_one_request_a_second()
    {
        await using var graph = await ConnectorHarness.StartAsync(sharedClock: true);
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 50, Groups = 0, RiskDetections = 0, ReferenceTime = Now });
        for (var i = 0; i < 620; i++)
        {
            graph.Emulator.AddRiskDetection(seeded.UserIds[i % 50], detectedAt: Now.AddMinutes(-i));
        }

        var pages = await graph.Directory.GetRiskDetectionPagesAsync(Now.AddMinutes(-600)).ToListAsync();

        // Detections are updated two minutes after they are detected (see the seed), so 602 are past the time.
        Assert.Equal([500, 102], pages.Select(p => p.Items.Count));
        Assert.Equal(602, pages.SelectMany(p => p.Items).Select(d => d.Id).Distinct().Count());
        Assert.NotNull(pages[0].NextLink);
        Assert.Null(pages[1].NextLink);
        Assert.Equal(2, graph.Calls.Requests);
        Assert.Equal(0, graph.Emulator.IdentityProtection.Refused);
        Assert.True(graph.Emulator.IdentityProtection.ShortestGap >= TimeSpan.FromSeconds(1));
        var first = pages[0].Items[0];
        Assert.Equal("high", first.RiskLevel);
        Assert.Equal("atRisk", first.RiskState);
        Assert.Equal("realtime", first.DetectionTimingType);
        Assert.Equal("signin", first.Activity);
        Assert.Equal("Rotterdam, Zuid-Holland, NL", first.Location);
    }

    [Fact]
    public async Task Risk_detection_pages_resume_from_a_stored_next_link()
    {
        await using var graph = await ConnectorHarness.StartAsync(sharedClock: true);
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 5, Groups = 0, RiskDetections = 0, ReferenceTime = Now });
        for (var i = 0; i < 700; i++)
        {
            graph.Emulator.AddRiskDetection(seeded.UserIds[i % 5], detectedAt: Now.AddMinutes(-i));
        }

        var first = await graph.Directory.GetRiskDetectionPagesAsync(Now.AddDays(-1)).FirstAsync();
        var rest = await graph.Directory.GetRiskDetectionPagesAsync(Now.AddDays(-1), first.NextLink).ToListAsync();

        Assert.Equal(700, first.Items.Concat(rest.SelectMany(p => p.Items)).Select(d => d.Id).Distinct().Count());
        Assert.Equal(0, graph.Emulator.IdentityProtection.Refused);
    }

    [Fact]
    public async Task Identity_protection_429s_without_Retry_After_are_backed_off_with_jitter_and_nothing_is_lost()
    {
        await using var graph = await ConnectorHarness.StartAsync(settings: new Dictionary<string, string?> { ["Graph:BackoffJitter"] = "0.5" }, sharedClock: true);
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 5, Groups = 0, RiskDetections = 0, ReferenceTime = Now });
        for (var i = 0; i < 30; i++)
        {
            graph.Emulator.AddRiskDetection(seeded.UserIds[i % 5], detectedAt: Now.AddMinutes(-i));
        }

        graph.Server.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, Count = 3, PathContains = "riskDetections" });

        var pages = await graph.Directory.GetRiskDetectionPagesAsync(Now.AddDays(-1)).ToListAsync();

        Assert.Equal(30, pages.Sum(p => p.Items.Count));
        var waits = graph.Delays.Waits;
        Assert.Equal(3, waits.Count);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var backoff = TimeSpan.FromSeconds(2 * Math.Pow(2, attempt));
            Assert.InRange(waits[attempt], backoff, backoff * 1.5);
        }
    }

    [Fact]
    public async Task Group_membership_reads_return_direct_members_and_groups()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 30, Groups = 4, GroupsPerUser = 2 });
        var userId = seeded.UserIds[5];

        var groups = await graph.Directory.GetUserGroupIdsAsync(userId);
        var members = await graph.Directory.GetGroupMemberIdsAsync(groups[0]);
        var group = await graph.Directory.GetGroupAsync(groups[0]);

        Assert.Equal(2, groups.Count);
        Assert.Contains(userId, members);
        Assert.Equal(graph.Emulator.GroupMemberIds(groups[0]).Order(), members.Order());
        Assert.NotNull(group?.DisplayName);
        Assert.Null(await graph.Directory.GetGroupAsync(Guid.NewGuid().ToString()));
    }

    [Fact]
    public async Task Several_users_are_read_in_batches_of_twenty()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 45, Groups = 0 });
        var wanted = seeded.UserIds.Take(41).Append(Guid.NewGuid().ToString()).ToList();

        var users = await graph.Directory.GetUsersAsync(wanted);

        Assert.Equal(seeded.UserIds.Take(41).Order(), users.Select(u => u.Id).Order());
        Assert.Equal(3, graph.Calls.Requests);
    }
}
