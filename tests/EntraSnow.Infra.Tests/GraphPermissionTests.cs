using System.Text.Json.Nodes;

namespace EntraSnow.Infra.Tests;

/// <summary>infra/graph-permissions.json is the one list of Graph application permissions: the hooks read it, the docs explain it.</summary>
public sealed class GraphPermissionTests
{
    // What the built flows call (DESIGN.md "Graph facts"): users, groups and memberships and their change-notification
    // subscriptions in every deployment; risk detections unless the risk flow is switched off; the rest only while the
    // flow (and its setting) is on.
    internal static readonly string[] Ungated = ["User.Read.All", "Group.Read.All", "GroupMember.Read.All"];

    /// <summary>What a deployment that sets no switch is granted.</summary>
    internal static readonly string[] EveryDeployment = [.. Ungated, "IdentityRiskEvent.Read.All"];

    /// <summary>azd environment values that turn a flow (or one of its settings) on, and exactly what they add.</summary>
    internal static readonly (Dictionary<string, string> Environment, string[] Adds)[] FlowSwitches =
    [
        (new() { ["INACTIVE_SWEEP_ENABLED"] = "true" }, ["AuditLog.Read.All"]),
        (new() { ["INACTIVE_SWEEP_ENABLED"] = "true", ["INACTIVE_SWEEP_DISABLE_ACCOUNTS"] = "true" }, ["AuditLog.Read.All", "User.EnableDisableAccount.All"]),
        (new() { ["INACTIVE_SWEEP_DISABLE_ACCOUNTS"] = "true" }, []), // the sweep itself is off
        (new() { ["ACCESS_REQUESTS_ENABLED"] = "true" }, ["GroupMember.ReadWrite.All"]),
        (new() { ["REMOVE_UNTIL_APPROVED_ENABLED"] = "true" }, ["GroupMember.ReadWrite.All"]),
        (new() { ["PASSWORD_RESET_ENABLED"] = "true" }, ["UserAuthenticationMethod.ReadWrite.All", "RoleManagement.Read.Directory", "Mail.Send"]),
        (new() { ["PASSWORD_RESET_ENABLED"] = "True", ["PASSWORD_RESET_METHOD"] = "Password" }, ["User-PasswordProfile.ReadWrite.All", "RoleManagement.Read.Directory", "Mail.Send"]),
        (new() { ["PASSWORD_RESET_ENABLED"] = "true", ["PASSWORD_RESET_REVOKE_SESSIONS"] = "true" }, ["UserAuthenticationMethod.ReadWrite.All", "RoleManagement.Read.Directory", "Mail.Send", "User.RevokeSessions.All"]),
        (new() { ["PASSWORD_RESET_REVOKE_SESSIONS"] = "true", ["PASSWORD_RESET_METHOD"] = "Password" }, []), // the flow itself is off
        (new() { ["RISK_REVOKE_SESSIONS_ON_HIGH_RISK"] = "true" }, ["User.RevokeSessions.All"]),
        (new() { ["RISK_REVOKE_SESSIONS_ON_HIGH_RISK"] = "true", ["RISK_ENABLED"] = "false" }, []), // the risk flow itself is off
        (new() { ["RISK_REVOKE_SESSIONS_ON_HIGH_RISK"] = "true", ["PASSWORD_RESET_ENABLED"] = "true", ["PASSWORD_RESET_REVOKE_SESSIONS"] = "true" },
            ["UserAuthenticationMethod.ReadWrite.All", "RoleManagement.Read.Directory", "Mail.Send", "User.RevokeSessions.All"]),
    ];

    private static readonly string[] Required = [.. EveryDeployment.Union(FlowSwitches.SelectMany(f => f.Adds))];

    internal static JsonObject List => JsonNode.Parse(Repository.ReadText("infra", "graph-permissions.json"))!.AsObject();

    internal static IReadOnlyList<string> Names => List["permissions"]!.AsArray().Select(p => (string)p!["name"]!).ToList();

    [Fact]
    public void The_list_names_every_permission_the_flows_use_once_per_flow_with_its_reason()
    {
        Assert.Equal("00000003-0000-0000-c000-000000000000", (string?)List["resourceAppId"]); // Microsoft Graph
        Assert.Equal(Required.Order(), Names.Distinct().Order());
        var entries = List["permissions"]!.AsArray().Select(p => ((string)p!["name"]!, (string)p["flow"]!)).ToList();
        Assert.Equal(entries.Count, entries.Distinct().Count());
        Assert.All(List["permissions"]!.AsArray(), p => Assert.False(string.IsNullOrWhiteSpace((string?)p!["usedFor"])));
    }

    [Fact]
    public void Each_permission_names_its_flow_and_only_declared_flow_switches_gate_the_optional_ones()
    {
        var permissions = List["permissions"]!.AsArray().Select(p => p!.AsObject()).ToList();
        var switches = List["switches"]!.AsObject();

        Assert.All(permissions, p => Assert.False(string.IsNullOrWhiteSpace((string?)p["flow"])));
        Assert.Equal(Ungated.Order(), permissions.Where(p => p["grantedWhen"] is null).Select(p => (string)p["name"]!).Order());
        Assert.All(permissions.Where(p => p["grantedWhen"] is not null).SelectMany(p => p["grantedWhen"]!.AsObject()),
            condition => Assert.True(switches.ContainsKey(condition.Key), $"{condition.Key} is not a declared switch"));
        Assert.All(switches, s => Assert.False(string.IsNullOrWhiteSpace((string?)s.Value!["setting"])));
    }

    [Fact]
    public void The_risk_flow_is_on_by_default_and_its_switch_turns_its_permission_off()
    {
        var risk = List["permissions"]!.AsArray().Single(p => (string)p!["name"]! == "IdentityRiskEvent.Read.All")!;

        Assert.Equal("true", (string?)risk["grantedWhen"]!["RISK_ENABLED"]);
        Assert.Equal("true", (string?)List["switches"]!["RISK_ENABLED"]!["default"]);
        Assert.StartsWith("Risk:Enabled", (string?)List["switches"]!["RISK_ENABLED"]!["setting"], StringComparison.Ordinal);
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
        Assert.All(List["switches"]!.AsObject(), s => Assert.Contains($"`{s.Key}`", docs));
    }
}
