using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

public sealed class UserReadTests
{
    [Fact]
    public async Task Get_user_returns_the_mapped_attributes_and_the_manager()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 20, Groups = 2 });
        var userId = seeded.UserIds[9];
        var stored = graph.Emulator.GetUser(userId)!;

        var user = await graph.Directory.GetUserAsync(userId);

        Assert.NotNull(user);
        Assert.Equal(stored["userPrincipalName"]!.GetValue<string>(), user.UserPrincipalName);
        Assert.Equal(stored["department"]!.GetValue<string>(), user.Department);
        Assert.Equal(stored["employeeId"]!.GetValue<string>(), user.EmployeeId);
        Assert.Single(user.BusinessPhones);
        Assert.Contains(user.ManagerId, seeded.UserIds);
    }

    [Fact]
    public async Task Get_user_of_an_unknown_id_returns_null()
    {
        await using var graph = await ConnectorHarness.StartAsync();

        Assert.Null(await graph.Directory.GetUserAsync(Guid.NewGuid().ToString()));
    }
}
