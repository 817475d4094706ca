using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

public sealed class WriteTests
{
    [Fact]
    public async Task A_password_reset_sets_a_new_password_that_must_be_changed_at_next_sign_in()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 3, Groups = 0 }).UserIds[1];

        await graph.Directory.ResetPasswordAsync(userId, "Xq7!pass-word-2026", forceChangeAtNextSignIn: true);

        var (changedAt, forceChange) = graph.Emulator.PasswordState(userId);
        Assert.NotNull(changedAt);
        Assert.True(forceChange);
        Assert.DoesNotContain("Xq7!pass-word-2026", graph.Emulator.GetUser(userId)!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_temporary_access_pass_is_created_and_returned_once()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[0];

        var pass = await graph.Directory.CreateTemporaryAccessPassAsync(userId, 60, isUsableOnce: true);

        Assert.Equal(8, pass.Pass.Length);
        Assert.Equal(60, pass.LifetimeInMinutes);
        Assert.True(pass.IsUsableOnce);
        Assert.Equal(1, graph.Emulator.AccessPassCount(userId));
    }

    [Fact]
    public async Task A_deleted_temporary_access_pass_is_gone_and_deleting_it_again_is_not_an_error()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[0];
        var pass = await graph.Directory.CreateTemporaryAccessPassAsync(userId, 60, isUsableOnce: true);

        await graph.Directory.DeleteTemporaryAccessPassAsync(userId, pass.Id);
        await graph.Directory.DeleteTemporaryAccessPassAsync(userId, pass.Id);

        Assert.Equal(0, graph.Emulator.AccessPassCount(userId));
    }

    [Fact]
    public async Task Revoking_sessions_stamps_the_user()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var userId = graph.Server.Seed(new GraphSeedSpec { Users = 2, Groups = 0 }).UserIds[0];

        await graph.Directory.RevokeSignInSessionsAsync(userId);

        Assert.NotNull(graph.Emulator.GetUser(userId)!["signInSessionsValidFromDateTime"]);
    }

    [Fact]
    public async Task Adding_a_member_twice_and_removing_a_non_member_are_not_errors()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 5, Groups = 1, GroupsPerUser = 0 });
        var (groupId, userId) = (seeded.GroupIds[0], seeded.UserIds[3]);

        await graph.Directory.AddGroupMemberAsync(groupId, userId);
        await graph.Directory.AddGroupMemberAsync(groupId, userId);
        Assert.Equal([userId], graph.Emulator.GroupMemberIds(groupId));

        await graph.Directory.RemoveGroupMemberAsync(groupId, userId);
        await graph.Directory.RemoveGroupMemberAsync(groupId, userId);
        Assert.Empty(graph.Emulator.GroupMemberIds(groupId));
    }

    [Fact]
    public async Task Writes_to_an_unknown_user_surface_graphs_error_code()
    {
        await using var graph = await ConnectorHarness.StartAsync();

        var failure = await Assert.ThrowsAsync<GraphRequestException>(() => graph.Directory.RevokeSignInSessionsAsync(Guid.NewGuid().ToString()));

        Assert.Equal(404, failure.StatusCode);
        Assert.Equal("Request_ResourceNotFound", failure.ErrorCode);
    }
}
