using System.Text.Json;
using System.Text.Json.Serialization;

namespace EntraSnow.Sandbox.ServiceNow.Catalog;

/// <summary>The admin route's body: why the approver decided so (written as the approval's comments).</summary>
public sealed record ChangeApprovalDecision
{
    [JsonPropertyName("reason")]
    public string? Reason { get; init; }
}

/// <summary>The change after the decision, and what EntraSnow answered to the callback (none for a change EntraSnow did not open).</summary>
public sealed record ChangeApprovalResult(
    [property: JsonPropertyName("change")] CatalogRecordRef Change,
    [property: JsonPropertyName("approval")] string Approval,
    [property: JsonPropertyName("webhook")] WebhookSendResult? Webhook);

/// <summary>
/// An approver deciding on a change waiting in Authorize, played by the emulator as ServiceNow does it: the approval
/// record (<c>sysapproval_approver</c>, with the approver's comments) is set, the change's <c>approval</c> follows and its
/// state moves on (Scheduled when approved, back to New when rejected); then the shipped app's business rule sends
/// the signed decision to EntraSnow for changes EntraSnow opened (<c>correlation_id</c> <c>entra-group:…</c>).
/// </summary>
public sealed class ServiceNowChangeApprovals(ServiceNowEmulatorStore store, ServiceNowWebhookSender sender)
{
    public const string ChangeDecisionPath = "/api/servicenow/change-decision";
    private const string Table = "change_request";

    public async Task<ChangeApprovalResult> DecideAsync(string sysId, bool approve, string? reason, CancellationToken cancellationToken)
    {
        var change = store.Get(Table, sysId) ?? throw new CatalogSubmissionException($"No change_request has sys_id '{sysId}'.");
        if (change.GetValueOrDefault("approval") != "requested")
        {
            throw new CatalogSubmissionException($"Change {change.GetValueOrDefault("number")} is not waiting for approval (approval: {change.GetValueOrDefault("approval")}).");
        }

        var approval = approve ? "approved" : "rejected";
        store.Insert("sysapproval_approver", new Dictionary<string, string>
        {
            ["sysapproval"] = sysId,
            ["source_table"] = Table,
            ["state"] = approval,
            ["comments"] = reason ?? string.Empty,
        });
        store.Update(Table, sysId, new Dictionary<string, string> { ["approval"] = approval, ["state"] = approve ? "-2" : "-5" });

        var number = change.GetValueOrDefault("number", string.Empty);
        WebhookSendResult? webhook = null;
        if (change.GetValueOrDefault("correlation_id", string.Empty).StartsWith("entra-group:", StringComparison.Ordinal))
        {
            var body = new Dictionary<string, string> { ["table"] = Table, ["sys_id"] = sysId, ["number"] = number, ["approval"] = approval };
            webhook = await sender.SendAsync(ChangeDecisionPath, JsonSerializer.SerializeToUtf8Bytes(body, CatalogJson.Options), cancellationToken);
        }

        return new ChangeApprovalResult(new CatalogRecordRef(Table, sysId, number), approval, webhook);
    }
}
