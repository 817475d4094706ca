using System.Net.Http.Json;
using System.Text;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using EntraSnow.Sandbox.ServiceNow.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EntraSnow.LocalHost.Tests.Catalog;

/// <summary>
/// A password reset from the emulated ServiceNow catalog through the local host to the Graph emulator and back to the
/// ticket, over real HTTP, with every log line recorded so the run can be searched for the pass afterwards.
/// </summary>
public sealed class PasswordResetEndToEndTests : IAsyncLifetime
{
    private const string GlobalAdministrator = "62e90394-69f5-4237-9190-012177145e10";

    private readonly RecordingLoggerProvider _logs = new();
    private LocalHostHarness _host = null!;

    public async Task InitializeAsync() => _host = await LocalHostHarness.StartAsync(
        new Dictionary<string, string?>
        {
            ["LocalHost:RunTimers"] = "false",
            ["Sandbox:Seed:Users"] = "0",
            ["Sandbox:Seed:InitialSync"] = "false",
            // A Graph outage is given up on quickly (the mail failure test).
            ["Graph:MaxRetries"] = "1",
            ["Graph:BackoffBase"] = "00:00:00.050",
        },
        configure: builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(_logs);
        });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private GraphEmulator Graph => _host.Services.GetRequiredService<GraphEmulator>();

    private ServiceNowEmulatorStore ServiceNow => _host.Services.GetRequiredService<ServiceNowEmulatorStore>();

    /// <summary>An Entra user with a manager, and their sys_user carrying the Entra object id.</summary>
    private async Task<(string UserId, string SysUserId, string ManagerMail, string ManagerId)> PersonWithManagerAsync(string name)
    {
        var managerMail = $"{name}.manager@contoso.example";
        var managerId = await Graph.CreateUserAsync($"{name} Manager", managerMail);
        var userId = await Graph.CreateUserAsync(name, $"{name}@contoso.example");
        Graph.SetUserManager(userId, managerId);
        var sysUserId = ServiceNow.Insert("sys_user", new Dictionary<string, string>
        {
            ["user_name"] = $"{name}@contoso.example",
            ["first_name"] = name,
            ["u_entra_object_id"] = userId,
        })["sys_id"];
        return (userId, sysUserId, managerMail, managerId);
    }

    private async Task<CatalogSubmissionResult> SubmitAsync(string sysUserId)
    {
        using var response = await _host.Client.PostAsJsonAsync("/sandbox/servicenow/sandbox-admin/catalog/password-reset", new { requested_for = sysUserId });
        var result = (await response.Content.ReadFromJsonAsync<CatalogSubmissionResult>())!;
        Assert.Equal(202, result.Webhook.StatusCode);
        return result;
    }

    /// <summary>The outcome is written to the requested item, then to its task: both closed means it is all written.</summary>
    private Task ClosedAsync(CatalogSubmissionResult result) => Eventually.AssertAsync(
        () => ServiceNow.Get("sc_req_item", result.Ticket.SysId)?["state"] is "3" or "4" && ServiceNow.Get("sc_task", result.Task.SysId)?["state"] is "3" or "4",
        "the requested item and its task closed");

    [Fact]
    public async Task A_reset_creates_a_pass_mails_it_to_the_manager_closes_the_ticket_and_leaves_the_pass_nowhere_else()
    {
        var (userId, sysUserId, managerMail, _) = await PersonWithManagerAsync("ada");

        var result = await SubmitAsync(sysUserId);
        await ClosedAsync(result);

        Assert.Equal(1, Graph.AccessPassCount(userId));
        var mail = Assert.Single(Graph.MailboxAndRoles.Mail);
        Assert.Equal([managerMail], mail.To);
        Assert.False(mail.SavedToSentItems);
        var pass = mail.Body.Split('\n').Single(l => l.StartsWith("Temporary Access Pass: ", StringComparison.Ordinal))["Temporary Access Pass: ".Length..].Trim();
        Assert.True(pass.Length >= 8);

        Assert.Equal("3", ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["state"]);
        Assert.Equal("3", ServiceNow.Get("sc_task", result.Task.SysId)!["state"]);
        var note = Assert.Single(ServiceNow.Journal("sc_req_item", result.Ticket.SysId));
        Assert.Contains(managerMail, note, StringComparison.Ordinal);
        Assert.Contains("Temporary Access Pass", note, StringComparison.Ordinal);

        // The pass went out by mail only: not in a log line, a queue row, a SQLite file (queues, checkpoints, webhook
        // ids, provisioning log, both emulators' databases) or a ServiceNow record.
        Assert.NotEmpty(_logs.Lines);
        Assert.DoesNotContain(_logs.Lines, line => line.Contains(pass, StringComparison.Ordinal));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var files = Directory.EnumerateFiles(_host.DataPath, "*.db*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.EndsWith("queues.db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("servicenow.db", StringComparison.Ordinal));
        var needle = Encoding.UTF8.GetBytes(pass);
        foreach (var file in files)
        {
            var bytes = await ReadSharedAsync(file);
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"The pass was found in {file}");
        }

        foreach (var table in new[] { "sc_req_item", "sc_task", "sys_journal_field", "sys_user" })
        {
            Assert.DoesNotContain(ServiceNow.Query(table), record => record.Values.Any(v => v.Contains(pass, StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task A_reset_for_a_directory_role_holder_is_refused_with_a_work_note_and_no_pass()
    {
        var (userId, sysUserId, _, _) = await PersonWithManagerAsync("grace");
        Graph.MailboxAndRoles.AssignRole(userId, GlobalAdministrator);

        var result = await SubmitAsync(sysUserId);
        await ClosedAsync(result);

        Assert.Equal("4", ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["state"]);
        Assert.Contains("directory role", Assert.Single(ServiceNow.Journal("sc_req_item", result.Ticket.SysId)), StringComparison.Ordinal);
        Assert.Equal(0, Graph.AccessPassCount(userId));
        Assert.Empty(Graph.MailboxAndRoles.Mail);
    }

    [Fact]
    public async Task A_reset_asked_by_someone_not_entitled_is_refused_with_a_work_note_and_no_pass()
    {
        var (userId, sysUserId, _, _) = await PersonWithManagerAsync("linus");
        var (_, strangerSysId, _, _) = await PersonWithManagerAsync("mallory");

        using var response = await _host.Client.PostAsJsonAsync("/sandbox/servicenow/sandbox-admin/catalog/password-reset",
            new { requested_for = sysUserId, requested_by = strangerSysId });
        var result = (await response.Content.ReadFromJsonAsync<CatalogSubmissionResult>())!;
        await ClosedAsync(result);

        Assert.Equal("4", ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["state"]);
        Assert.Contains("not entitled", Assert.Single(ServiceNow.Journal("sc_req_item", result.Ticket.SysId)), StringComparison.Ordinal);
        Assert.Equal(0, Graph.AccessPassCount(userId));
    }

    [Fact]
    public async Task A_reset_asked_by_the_users_manager_is_carried_out()
    {
        var (userId, sysUserId, managerMail, managerId) = await PersonWithManagerAsync("alan");
        var managerSysId = ServiceNow.Insert("sys_user", new Dictionary<string, string>
        {
            ["user_name"] = managerMail,
            ["u_entra_object_id"] = managerId,
        })["sys_id"];

        using var response = await _host.Client.PostAsJsonAsync("/sandbox/servicenow/sandbox-admin/catalog/password-reset",
            new { requested_for = sysUserId, requested_by = managerSysId });
        var result = (await response.Content.ReadFromJsonAsync<CatalogSubmissionResult>())!;
        await ClosedAsync(result);

        Assert.Equal("3", ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["state"]);
        Assert.Equal(1, Graph.AccessPassCount(userId));
    }

    [Fact]
    public async Task A_pass_the_mail_service_cannot_deliver_is_deleted_in_Graph_and_the_ticket_says_delivery_failed()
    {
        var (userId, sysUserId, managerMail, _) = await PersonWithManagerAsync("edsger");
        Graph.Faults.Add(new GraphFault { Kind = GraphFaultKind.Unavailable, Count = 10, PathContains = "sendMail" });

        var result = await SubmitAsync(sysUserId);
        await ClosedAsync(result);

        Assert.Equal(0, Graph.AccessPassCount(userId));
        Assert.Empty(Graph.MailboxAndRoles.Mail);
        Assert.Equal("4", ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["state"]);
        Assert.Equal("4", ServiceNow.Get("sc_task", result.Task.SysId)!["state"]);
        var note = Assert.Single(ServiceNow.Journal("sc_req_item", result.Ticket.SysId));
        Assert.Contains($"could not be e-mailed to {managerMail}", note, StringComparison.Ordinal);
        Assert.Contains("It was deleted at once, so none is in effect", note, StringComparison.Ordinal);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
