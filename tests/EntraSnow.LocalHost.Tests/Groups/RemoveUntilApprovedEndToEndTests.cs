using System.Net.Http.Json;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using EntraSnow.Sandbox.ServiceNow.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Groups;

/// <summary>
/// A sensitive group under <c>remove-until-approved</c>, through the local host against both emulators: a member added
/// in Entra is taken out at once and a change waits in Authorize; the emulated approver's decision comes back signed,
/// as the ServiceNow app sends it, and puts the member back (approved) or leaves them out (rejected).
/// </summary>
public sealed class RemoveUntilApprovedEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _groupId = Guid.NewGuid().ToString();
    private LocalHostHarness _host = null!;
    private string _userId = null!;

    public async Task InitializeAsync()
    {
        _host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:Seed:Users"] = "4",
            ["Sandbox:Seed:Groups"] = "1",
            ["GroupChanges:SensitiveGroups:0:GroupId"] = _groupId,
            ["GroupChanges:SensitiveGroups:0:Policy"] = "remove-until-approved",
        });
        await Eventually.AssertAsync(async () => await Checkpoints.GetAsync(MembershipLedger.BaselineKey) is not null, "the first reading of the groups", Patience);
        await Eventually.AssertAsync(() => Graph.Subscriptions.Count > 0, "a Graph subscription for the host's intake", Patience);
        await Graph.CreateGroupAsync("Finance-Approvers", _groupId);
        _userId = await Graph.CreateUserAsync("Adele Vance", $"adele.{Guid.NewGuid():N}@contoso.com");
        await Eventually.AssertAsync(() => ServiceNow.Query("sys_user_group", $"u_entra_object_id={_groupId}").Count == 1, "the sensitive group provisioned", Patience);
        await Eventually.AssertAsync(() => ServiceNow.Query("sys_user", $"u_entra_object_id={_userId}").Count == 1, "the user provisioned", Patience);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private GraphEmulator Graph => _host.Services.GetRequiredService<GraphEmulator>();

    private ServiceNowEmulatorStore ServiceNow => _host.Services.GetRequiredService<ServiceNowEmulatorStore>();

    private ICheckpointStore Checkpoints => _host.Services.GetRequiredService<ICheckpointStore>();

    private bool IsMember => Graph.GroupMemberIds(_groupId).Contains(_userId);

    private IReadOnlyDictionary<string, string>? Change(string transition) =>
        ServiceNow.Query("change_request", $"correlation_id=entra-group:{_groupId}:{_userId}:{transition}").SingleOrDefault();

    /// <summary>Adds the member in Entra as an administrator would, and waits for EntraSnow to take them out and open the change.</summary>
    private async Task<IReadOnlyDictionary<string, string>> AddedAndTakenOutAsync()
    {
        await Graph.AddGroupMemberAsync(_groupId, _userId);
        await Eventually.AssertAsync(() => !IsMember && Change("added:1") is not null, "the member taken out and the change opened", TimeSpan.FromSeconds(30));
        var change = Change("added:1")!;
        Assert.Equal("normal", change["type"]);
        Assert.Equal("-3", change["state"]);
        Assert.Equal("requested", change["approval"]);
        Assert.Contains("remove-until-approved", change["description"], StringComparison.Ordinal);
        return change;
    }

    private async Task<ChangeApprovalResult> DecideAsync(IReadOnlyDictionary<string, string> change, string decision, string? reason = null)
    {
        using var response = await _host.Client.PostAsJsonAsync($"/sandbox/servicenow/sandbox-admin/change_request/{change["sys_id"]}/{decision}", new { reason });
        var result = (await response.Content.ReadFromJsonAsync<ChangeApprovalResult>())!;
        Assert.Equal(202, result.Webhook!.StatusCode);
        return result;
    }

    [Fact]
    public async Task An_approved_change_puts_the_member_back_closes_the_change_and_the_re_add_is_recognised_not_removed_again()
    {
        var change = await AddedAndTakenOutAsync();

        await DecideAsync(change, "approve");
        await Eventually.AssertAsync(() => IsMember && ServiceNow.Get("change_request", change["sys_id"])!["state"] == "3", "the member back and the change closed", Patience);

        // The delta that reports the re-add records it as EntraSnow's, for the change, and does not take the member out again.
        await Eventually.AssertAsync(async () => await Checkpoints.GetAsync(MembershipLedger.Key(_groupId, _userId)) == "in:3", "the re-add recorded", Patience);
        Assert.True(IsMember);
        Assert.Contains($"Changed by: EntraSnow, for {change["number"]}", Change("removed:2")!["description"], StringComparison.Ordinal);
        var readd = Change("added:3")!;
        Assert.Contains($"Changed by: EntraSnow, for {change["number"]}", readd["description"], StringComparison.Ordinal);
        Assert.Equal("3", readd["state"]);
        Assert.Contains("put member", Assert.Single(ServiceNow.Journal("change_request", change["sys_id"])), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejected_change_leaves_the_member_out_and_is_cancelled_with_the_reason()
    {
        var change = await AddedAndTakenOutAsync();

        await DecideAsync(change, "reject", "Finance approvers are named by the CFO only");
        await Eventually.AssertAsync(() => ServiceNow.Get("change_request", change["sys_id"])!["state"] == "4", "the change cancelled", Patience);

        Assert.False(IsMember);
        var closed = ServiceNow.Get("change_request", change["sys_id"])!;
        Assert.Equal("rejected", closed["approval"]);
        Assert.Contains("Finance approvers are named by the CFO only", closed["close_notes"], StringComparison.Ordinal);
        Assert.Equal("false", closed["active"]);
    }
}
