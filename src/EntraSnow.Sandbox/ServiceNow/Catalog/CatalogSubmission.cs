using System.Text.Json;
using System.Text.Json.Serialization;

namespace EntraSnow.Sandbox.ServiceNow.Catalog;

/// <summary>
/// What someone fills in on the portal (the admin route's body). Users may be given by sys_id or user_name, the group
/// by sys_id or name. <see cref="Approval"/> is the requested item's approval state when the webhook is sent.
/// </summary>
public sealed record CatalogSubmission
{
    [JsonPropertyName("requested_for")]
    public string? RequestedFor { get; init; }

    /// <summary>Who submitted it; the person it is for when not given.</summary>
    [JsonPropertyName("requested_by")]
    public string? RequestedBy { get; init; }

    [JsonPropertyName("group")]
    public string? Group { get; init; }

    /// <summary><c>add</c> (default) or <c>remove</c>.</summary>
    [JsonPropertyName("action")]
    public string? Action { get; init; }

    /// <summary><c>approved</c> by default; <c>requested</c> or <c>rejected</c> to see EntraSnow refuse.</summary>
    [JsonPropertyName("approval")]
    public string? Approval { get; init; }
}

/// <summary>The records a submission created and what EntraSnow answered to the webhook.</summary>
public sealed record CatalogSubmissionResult(
    [property: JsonPropertyName("ticket")] CatalogRecordRef Ticket,
    [property: JsonPropertyName("task")] CatalogRecordRef Task,
    [property: JsonPropertyName("webhook")] WebhookSendResult Webhook);

public sealed record CatalogRecordRef(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("sys_id")] string SysId,
    [property: JsonPropertyName("number")] string Number);

/// <summary>A submission that cannot become a request (an unknown user or group).</summary>
public sealed class CatalogSubmissionException(string message) : Exception(message);

internal static class CatalogJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
