using System.Net.Http.Json;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using EntraSnow.Sandbox.ServiceNow.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Catalog;

/// <summary>
/// A group access request from the emulated ServiceNow catalog through the local host to the Graph emulator and back
/// to the ticket, over real HTTP; then the group delta the change sets off, recorded as EntraSnow's for the ticket.
/// </summary>
public sealed class AccessRequestEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private LocalHostHarness _host = null!;

    public async Task InitializeAsync()
    {
        _host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:Seed:Users"] = "4",
            ["Sandbox:Seed:Groups"] = "1",
            ["AccessRequests:AllowedGroupNamePrefix"] = "App - ",
        });
        await Eventually.AssertAsync(async () => await Checkpoints.GetAsync(MembershipLedger.BaselineKey) is not null, "the first reading of the groups", Patience);
        await Eventually.AssertAsync(() => Graph.Subscriptions.Count > 0, "a Graph subscription for the host's intake", Patience);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private GraphEmulator Graph => _host.Services.GetRequiredService<GraphEmulator>();

    private ServiceNowEmulatorStore ServiceNow => _host.Services.GetRequiredService<ServiceNowEmulatorStore>();

    private ICheckpointStore Checkpoints => _host.Services.GetRequiredService<ICheckpointStore>();

    /// <summary>A new Entra user, once EntraSnow has provisioned their sys_user.</summary>
    private async Task<(string UserId, string SysUserId)> PersonAsync(string name)
    {
        var userId = await Graph.CreateUserAsync(name, $"{name}.{Guid.NewGuid():N}@contoso.example");
        await Eventually.AssertAsync(() => ServiceNow.Query("sys_user", $"u_entra_object_id={userId}").Count == 1, "the new user provisioned", Patience);
        return (userId, ServiceNow.Query("sys_user", $"u_entra_object_id={userId}")[0]["sys_id"]);
    }

    /// <summary>A new Entra group, once EntraSnow has provisioned its sys_user_group.</summary>
    private async Task<string> GroupAsync(string name)
    {
        var groupId = await Graph.CreateGroupAsync(name);
        await Eventually.AssertAsync(() => ServiceNow.Query("sys_user_group", $"u_entra_object_id={groupId}").Count == 1, "the new group provisioned", Patience);
        return groupId;
    }

    private async Task<CatalogSubmissionResult> SubmitAsync(string sysUserId, string groupId, string action = "add")
    {
        var sysGroupId = ServiceNow.Query("sys_user_group", $"u_entra_object_id={groupId}")[0]["sys_id"];
        using var response = await _host.Client.PostAsJsonAsync("/sandbox/servicenow/sandbox-admin/catalog/access-request",
            new { requested_for = sysUserId, group = sysGroupId, action });
        var result = (await response.Content.ReadFromJsonAsync<CatalogSubmissionResult>())!;
        Assert.Equal(202, result.Webhook.StatusCode);
        return result;
    }

    private Task ClosedAsync(CatalogSubmissionResult result) => Eventually.AssertAsync(
        () => ServiceNow.Get("sc_req_item", result.Ticket.SysId)?["state"] is "3" or "4" && ServiceNow.Get("sc_task", result.Task.SysId)?["state"] is "3" or "4",
        "the requested item and its task closed", Patience);

    private IReadOnlyList<IReadOnlyDictionary<string, string>> Records(string groupId) =>
        ServiceNow.Query("change_request", $"correlation_idSTARTSWITHentra-group:{groupId}^ORDERBYnumber");

    [Fact]
    public async Task An_approved_request_for_an_allowed_group_adds_the_member_closes_the_ticket_and_is_recorded_as_EntraSnows_change_for_it()
    {
        var (userId, sysUserId) = await PersonAsync("adele");
        var groupId = await GroupAsync("App - Payroll");

        var result = await SubmitAsync(sysUserId, groupId);
        await ClosedAsync(result);

        Assert.Contains(userId, Graph.GroupMemberIds(groupId));
        Assert.Equal("3", ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["state"]);
        Assert.Equal("3", ServiceNow.Get("sc_task", result.Task.SysId)!["state"]);
        var note = Assert.Single(ServiceNow.Journal("sc_req_item", result.Ticket.SysId));
        Assert.Contains("was added to the Entra ID group App - Payroll", note, StringComparison.Ordinal);

        // Graph notifies the change; the delta records it, linked to the ticket and closed, not as someone's unexplained change.
        await Eventually.AssertAsync(() => Records(groupId).Count == 1, "the change record of the membership", Patience);
        var record = Assert.Single(Records(groupId));
        Assert.Contains($"Changed by: EntraSnow, for {result.Ticket.Number}", record["description"], StringComparison.Ordinal);
        Assert.Equal("3", record["state"]);
        // The note of EntraSnow's own change is forgotten right after the record is written, not in the same step.
        await Eventually.AssertAsync(async () => await Checkpoints.GetAsync(MembershipLedger.OwnKey(groupId, userId, isMember: true)) is null,
            "the note of EntraSnow's own change forgotten once recorded", Patience);
    }

    [Fact]
    public async Task A_request_for_a_group_not_on_the_allow_list_is_refused_with_a_work_note_and_changes_no_membership()
    {
        var (userId, sysUserId) = await PersonAsync("mallory");
        var groupId = await GroupAsync("Domain Admins");

        var result = await SubmitAsync(sysUserId, groupId);
        await ClosedAsync(result);

        Assert.DoesNotContain(userId, Graph.GroupMemberIds(groupId));
        Assert.Equal("4", ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["state"]);
        var note = Assert.Single(ServiceNow.Journal("sc_req_item", result.Ticket.SysId));
        Assert.Contains("not on the access request allow-list", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_approved_removal_takes_the_member_out()
    {
        var (userId, sysUserId) = await PersonAsync("linus");
        var groupId = await GroupAsync("App - Wiki");
        await Graph.AddGroupMemberAsync(groupId, userId);

        var result = await SubmitAsync(sysUserId, groupId, action: "remove");
        await ClosedAsync(result);

        Assert.DoesNotContain(userId, Graph.GroupMemberIds(groupId));
        Assert.Equal("3", ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["state"]);
    }
}
