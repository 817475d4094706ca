using System.Text.Json;

namespace EntraSnow.Sandbox.ServiceNow.Catalog;

/// <summary>
/// The two catalog items of the shipped ServiceNow app, played by the emulator: a submission creates the requested
/// item (sc_req_item, with its variables) and its fulfilment task (sc_task) as ServiceNow would, then the app's
/// business rule sends the signed webhook to EntraSnow.
/// </summary>
public sealed class ServiceNowCatalog(ServiceNowEmulatorStore store, ServiceNowWebhookSender sender)
{
    public const string PasswordResetPath = "/api/servicenow/password-reset";
    public const string AccessRequestPath = "/api/servicenow/access-request";

    public Task<CatalogSubmissionResult> SubmitPasswordResetAsync(CatalogSubmission submission, CancellationToken cancellationToken) =>
        SubmitAsync(submission, accessRequest: false, cancellationToken);

    public Task<CatalogSubmissionResult> SubmitAccessRequestAsync(CatalogSubmission submission, CancellationToken cancellationToken) =>
        SubmitAsync(submission, accessRequest: true, cancellationToken);

    private async Task<CatalogSubmissionResult> SubmitAsync(CatalogSubmission submission, bool accessRequest, CancellationToken cancellationToken)
    {
        var requestedFor = Find("sys_user", "user_name", submission.RequestedFor, "requested_for");
        var requestedBy = submission.RequestedBy is { Length: > 0 } ? Find("sys_user", "user_name", submission.RequestedBy, "requested_by") : requestedFor;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["requested_for"] = requestedFor["sys_id"],
            ["opened_by"] = requestedBy["sys_id"],
            ["approval"] = submission.Approval is { Length: > 0 } approval ? approval : "approved",
            ["state"] = "1",
        };

        var body = new Dictionary<string, string>(StringComparer.Ordinal);
        if (accessRequest)
        {
            var group = Find("sys_user_group", "name", submission.Group, "group");
            var action = submission.Action is { Length: > 0 } a ? a.ToLowerInvariant() : "add";
            fields["short_description"] = $"Access to {group.GetValueOrDefault("name")} ({action}) for {requestedFor.GetValueOrDefault("name")}";
            fields["cat_item"] = "EntraSnow access request";
            // Catalog variables, as the Table API dot-walks them on a requested item (variables.<name>).
            fields["variables.group"] = group["sys_id"];
            fields["variables.action"] = action;
            body["group"] = group["sys_id"];
            body["action"] = action;
        }
        else
        {
            fields["short_description"] = $"Password reset for {requestedFor.GetValueOrDefault("name")}";
            fields["cat_item"] = "EntraSnow password reset";
        }

        var item = store.Insert("sc_req_item", fields);
        var task = store.Insert("sc_task", new Dictionary<string, string>
        {
            ["request_item"] = item["sys_id"],
            ["short_description"] = fields["short_description"],
        });

        body["table"] = "sc_req_item";
        body["sys_id"] = item["sys_id"];
        body["number"] = item["number"];
        body["requested_for"] = requestedFor["sys_id"];
        body["requested_by"] = requestedBy["sys_id"];
        var webhook = await sender.SendAsync(accessRequest ? AccessRequestPath : PasswordResetPath, JsonSerializer.SerializeToUtf8Bytes(body, CatalogJson.Options), cancellationToken);
        return new CatalogSubmissionResult(
            new CatalogRecordRef("sc_req_item", item["sys_id"], item["number"]),
            new CatalogRecordRef("sc_task", task["sys_id"], task["number"]),
            webhook);
    }

    private IReadOnlyDictionary<string, string> Find(string table, string nameField, string? value, string what)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new CatalogSubmissionException($"'{what}' is required.");
        }

        if (store.Get(table, value) is { } bySysId)
        {
            return bySysId;
        }

        var byName = store.Query(table, $"{nameField}={value.Replace("^", "^^", StringComparison.Ordinal)}");
        return byName.Count > 0
            ? byName[0]
            : throw new CatalogSubmissionException($"No {table} record has sys_id or {nameField} '{value}'.");
    }
}
