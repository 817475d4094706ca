using EntraSnow.Graph.Tests.Support;

namespace EntraSnow.Graph.Tests.Connector;

public sealed class GroupReadTests
{
    [Fact]
    public async Task A_group_read_by_id_says_whether_directory_roles_can_be_assigned_to_it()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var tierZero = await graph.Emulator.CreateGroupAsync("Tier 0 Admins", isAssignableToRole: true);
        var finance = await graph.Emulator.CreateGroupAsync("Finance-Approvers");

        var groups = new[] { await graph.Directory.GetGroupAsync(tierZero), await graph.Directory.GetGroupAsync(finance) };

        Assert.Equal([("Tier 0 Admins", true), ("Finance-Approvers", false)], groups.Select(g => (g!.DisplayName, g.IsAssignableToRole)));
    }
}
