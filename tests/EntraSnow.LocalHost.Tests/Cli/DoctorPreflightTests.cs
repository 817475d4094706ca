using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Tests.Support;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary>
/// The doctor's pre-flight before adopting an instance, in sandbox mode against both emulators: read and write rights
/// per table the enabled flows use, the Graph app roles in the token, the subscriptions' state, one line each.
/// </summary>
public sealed class DoctorPreflightTests : IDisposable
{
    private readonly string _dataPath = LocalHostHarness.NewDataPath();

    public void Dispose() => LocalHostHarness.TryDelete(_dataPath);

    private async Task<(int Exit, string[] Lines)> Doctor(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync(
            ["doctor", .. args, $"--LocalHost:DataPath={_dataPath}", $"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}",
                "--Sandbox:Seed:InitialSync=false", "--Logging:LogLevel:Default=Warning"], output);
        return (exit, output.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
    }

    private static string Line(string[] lines, string what) => Assert.Single(lines, l => l.Contains(what, StringComparison.Ordinal));

    [Fact]
    public async Task Doctor_checks_each_table_the_enabled_flows_use_and_the_app_roles_in_the_token_one_line_each()
    {
        var (exit, lines) = await Doctor("--InactiveSweep:Enabled=true");

        Assert.Equal(0, exit);
        Assert.StartsWith("ok    ServiceNow: sys_user read and write (provisioning): read ok (GET sysparm_limit=1); write: the integration user holds admin", Line(lines, "ServiceNow: sys_user read"), StringComparison.Ordinal);
        Assert.StartsWith("ok    ServiceNow: sys_dictionary read (provisioning)", Line(lines, "ServiceNow: sys_dictionary"), StringComparison.Ordinal);
        Assert.StartsWith("ok    ServiceNow: change_request read and write (group change records)", Line(lines, "ServiceNow: change_request"), StringComparison.Ordinal);
        // The sandbox turns password resets on (PasswordReset:SendFrom), so catalog requests use sc_task too.
        Assert.StartsWith("ok    ServiceNow: sc_task read and write (inactive sweep, catalog requests)", Line(lines, "ServiceNow: sc_task"), StringComparison.Ordinal);
        Assert.StartsWith("ok    ServiceNow: incident read and write (risk incidents)", Line(lines, "ServiceNow: incident"), StringComparison.Ordinal);
        var roles = Line(lines, "Graph: app roles in the token");
        Assert.StartsWith("ok    ", roles, StringComparison.Ordinal);
        Assert.Contains("AuditLog.Read.All", roles, StringComparison.Ordinal); // the inactive sweep is on
        Assert.Contains("not needed: ", roles, StringComparison.Ordinal); // the sandbox grants every role; password reset is off
        Assert.Contains(lines, l => l.Contains("Graph subscription /users", StringComparison.Ordinal) && !l.StartsWith("FAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Doctor_names_the_app_role_the_token_lacks_and_the_flow_that_needs_it()
    {
        var (exit, lines) = await Doctor("--InactiveSweep:Enabled=true",
            "--Sandbox:Graph:AppRoles=User.Read.All,Group.Read.All,GroupMember.Read.All,IdentityRiskEvent.Read.All");

        Assert.Equal(1, exit);
        var roles = Line(lines, "Graph: app roles in the token");
        Assert.StartsWith("FAIL  ", roles, StringComparison.Ordinal);
        Assert.Contains("the token lacks AuditLog.Read.All (inactive sweep", roles, StringComparison.Ordinal);
        Assert.DoesNotContain("User.Read.All (", roles, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_risk_flow_switched_off_doctor_neither_asks_for_IdentityRiskEvent_nor_checks_the_incident_table()
    {
        // Every role the sandbox's flows need (it turns password resets on) but the risk poll's.
        const string WithoutRisk = "--Sandbox:Graph:AppRoles=User.Read.All,Group.Read.All,GroupMember.Read.All,UserAuthenticationMethod.ReadWrite.All,RoleManagement.Read.Directory,Mail.Send";

        var (onExit, onLines) = await Doctor(WithoutRisk);
        var (offExit, offLines) = await Doctor(WithoutRisk, "--Risk:Enabled=false");

        Assert.Equal(1, onExit);
        Assert.Contains("the token lacks IdentityRiskEvent.Read.All (risk incidents", Line(onLines, "Graph: app roles in the token"), StringComparison.Ordinal);
        Assert.Equal(0, offExit);
        Assert.StartsWith("ok    ", Line(offLines, "Graph: app roles in the token"), StringComparison.Ordinal);
        Assert.DoesNotContain(offLines, l => l.Contains("risk incidents", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Doctor_fails_a_table_the_integration_user_may_read_but_its_roles_do_not_let_it_write()
    {
        var (exit, lines) = await Doctor("--Sandbox:ServiceNow:IntegrationUserRoles=itil");

        Assert.Equal(1, exit);
        var users = Line(lines, "ServiceNow: sys_user read");
        Assert.StartsWith("FAIL  ", users, StringComparison.Ordinal);
        Assert.Contains("writing needs user_admin on a base instance and the integration user holds only itil", users, StringComparison.Ordinal);
        Assert.StartsWith("ok    ", Line(lines, "ServiceNow: incident read"), StringComparison.Ordinal);
        Assert.Contains("holds itil", Line(lines, "ServiceNow: change_request"), StringComparison.Ordinal);
    }
}
