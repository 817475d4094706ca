using System.Text.Json.Nodes;

namespace EntraSnow.Infra.Tests;

/// <summary>infra/graph-permissions.json is the one list of Graph application permissions: the hooks read it, the docs explain it.</summary>
public sealed class GraphPermissionTests
{
    // What the flows call (DESIGN.md "Graph facts"): users, groups and memberships, sign-in activity, risk detections,
    // password resets and Temporary Access Passes, session revocation, and the change-notification subscriptions.
    private static readonly string[] Required =
    [
        "User.Read.All", "Group.Read.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All", "AuditLog.Read.All",
        "IdentityRiskEvent.Read.All", "User-PasswordProfile.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All",
        "User.RevokeSessions.All", "RoleManagement.Read.Directory", "Mail.Send",
    ];

    internal static JsonObject List => JsonNode.Parse(Repository.ReadText("infra", "graph-permissions.json"))!.AsObject();

    internal static IReadOnlyList<string> Names => List["permissions"]!.AsArray().Select(p => (string)p!["name"]!).ToList();

    [Fact]
    public void The_list_names_every_permission_the_flows_use_once_each_with_its_reason()
    {
        Assert.Equal("00000003-0000-0000-c000-000000000000", (string?)List["resourceAppId"]); // Microsoft Graph
        Assert.Equal(Required.Order(), Names.Order());
        Assert.All(List["permissions"]!.AsArray(), p => Assert.False(string.IsNullOrWhiteSpace((string?)p!["usedFor"])));
    }

    [Fact]
    public void Nothing_tenant_wide_writable_beyond_what_the_flows_do_is_requested()
    {
        string[] tooBroad = ["Directory.ReadWrite.All", "User.ReadWrite.All", "Group.ReadWrite.All", "RoleManagement.ReadWrite.Directory", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All"];

        Assert.All(tooBroad, broad => Assert.DoesNotContain(broad, Names));
    }

    [Theory]
    [InlineData("infra/hooks/postprovision.sh")]
    [InlineData("infra/hooks/postprovision.ps1")]
    public void The_hooks_read_the_list_instead_of_repeating_it(string hook)
    {
        var script = Repository.ReadText(hook);

        Assert.Contains("graph-permissions.json", script);
        Assert.All(Names, name => Assert.DoesNotContain(name, script));
    }

    [Fact]
    public void The_deployment_docs_explain_every_permission()
    {
        var docs = Repository.ReadText("docs", "deploy.md");

        Assert.All(Names, name => Assert.Contains($"| `{name}` |", docs));
    }
}
