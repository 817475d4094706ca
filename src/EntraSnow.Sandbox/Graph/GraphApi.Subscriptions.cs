using System.Globalization;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>Change notification subscriptions: validated, created, renewed, reauthorised and deleted as Graph does.</summary>
internal sealed partial class GraphApi
{
    private static string? NormalizeResource(string? resource) => resource?.Trim('/').ToLowerInvariant() switch
    {
        "users" => "users",
        "groups" => "groups",
        _ => null,
    };

    private static bool IsEventGrid(string url) => url.StartsWith("EventGrid:", StringComparison.OrdinalIgnoreCase);

    /// <summary>https, http on loopback (the emulator allows it for local hosts), or the Event Grid form with its four parameters.</summary>
    private static string? InvalidUrl(string? url, string name)
    {
        if (url is null)
        {
            return null;
        }

        if (IsEventGrid(url))
        {
            var query = url["EventGrid:".Length..].TrimStart('?').Split('&').Select(p => p.Split('=')[0].ToLowerInvariant()).ToHashSet();
            return EventGridParameters.All(query.Contains)
                ? null
                : $"{name}: the EventGrid form needs azuresubscriptionid, resourcegroup, partnertopic and location.";
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            ? null
            : $"{name} must be an https URL.";
    }

    private GraphResponse? InvalidExpiration(DateTimeOffset? expiration)
    {
        var now = emulator.Clock.GetUtcNow();
        if (expiration is null || expiration <= now)
        {
            return GraphResponse.Error(400, "ExtensionError", "Subscription expiration must be in the future.");
        }

        return expiration > now.AddMinutes(emulator.Options.MaxSubscriptionMinutes)
            ? GraphResponse.Error(400, "ExtensionError",
                $"Subscription expiration can only be {emulator.Options.MaxSubscriptionMinutes} minutes in the future.")
            : null;
    }

    private static DateTimeOffset? Date(JsonNode? node) =>
        node?.GetValue<string>() is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null;

    private async Task<bool> ValidateAsync(JsonObject subscription, CancellationToken ct)
    {
        foreach (var name in new[] { "notificationUrl", "lifecycleNotificationUrl" })
        {
            if (subscription[name]?.GetValue<string>() is { } url && !IsEventGrid(url) && !await emulator.ValidateEndpointAsync(url, ct))
            {
                return false;
            }
        }

        return true;
    }

    private static JsonObject SubscriptionJson(JsonObject stored, bool withClientState)
    {
        var json = (JsonObject)stored.DeepClone();
        if (!withClientState)
        {
            json["clientState"] = null;
        }

        return json;
    }

    private GraphResponse ListSubscriptions(GraphRequest r) =>
        GraphResponse.Json(Collection(r, "subscriptions", Store.Read(s => s.ListSubscriptions()).Select(d => SubscriptionJson(d, false)), null));

    private GraphResponse GetSubscription(string id) =>
        Store.Read(s => s.GetSubscription(id)) is { } doc ? GraphResponse.Json(SubscriptionJson(doc, false)) : GraphResponse.NotFound("subscription", id);

    private async Task<GraphResponse> CreateSubscriptionAsync(GraphRequest r, CancellationToken ct)
    {
        var body = RequireBody(r);
        var resource = body["resource"]?.GetValue<string>();
        var changeType = body["changeType"]?.GetValue<string>();
        var notificationUrl = body["notificationUrl"]?.GetValue<string>();
        var lifecycleUrl = body["lifecycleNotificationUrl"]?.GetValue<string>();
        if (NormalizeResource(resource) is null)
        {
            return GraphResponse.Error(400, "ExtensionError", $"Resource '{resource}' is not supported by the emulator (users, groups).");
        }

        if (string.IsNullOrEmpty(changeType) || changeType.Split(',').Any(c => c.Trim() is not ("created" or "updated" or "deleted")))
        {
            return GraphResponse.Error(400, "ExtensionError", "changeType must be a comma-separated list of created, updated, deleted.");
        }

        if (string.IsNullOrEmpty(notificationUrl))
        {
            return GraphResponse.Error(400, "ExtensionError", "notificationUrl is required.");
        }

        if ((InvalidUrl(notificationUrl, "notificationUrl") ?? InvalidUrl(lifecycleUrl, "lifecycleNotificationUrl")) is { } urlProblem)
        {
            return GraphResponse.Error(400, "ExtensionError", urlProblem);
        }

        var expiration = Date(body["expirationDateTime"]);
        if (InvalidExpiration(expiration) is { } expirationProblem)
        {
            return expirationProblem;
        }

        var existing = Store.Read(s => s.ListSubscriptions());
        if (existing.Any(e => NormalizeResource(e["resource"]?.GetValue<string>()) == NormalizeResource(resource)
            && string.Equals(e["notificationUrl"]?.GetValue<string>(), notificationUrl, StringComparison.OrdinalIgnoreCase)
            && string.Equals(e["changeType"]?.GetValue<string>(), changeType, StringComparison.OrdinalIgnoreCase)))
        {
            return GraphResponse.Error(409, "Conflict", "A subscription for this resource, change type and notification URL already exists.");
        }

        if (existing.Count >= emulator.Options.MaxSubscriptions)
        {
            return GraphResponse.Error(403, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: Subscription limit reached]");
        }

        var id = Guid.NewGuid().ToString();
        var doc = new JsonObject
        {
            ["@odata.context"] = $"{r.ServiceRoot}/$metadata#subscriptions/$entity",
            ["id"] = id,
            ["resource"] = resource,
            ["applicationId"] = emulator.Options.ClientId,
            ["changeType"] = changeType,
            ["clientState"] = body["clientState"]?.DeepClone(),
            ["notificationUrl"] = notificationUrl,
            ["lifecycleNotificationUrl"] = lifecycleUrl,
            ["expirationDateTime"] = GraphEmulator.Timestamp(expiration!.Value),
            ["creatorId"] = emulator.Options.ClientId,
            ["includeResourceData"] = false,
            ["latestSupportedTlsVersion"] = "v1_2",
            ["notificationUrlAppId"] = null,
        };
        if (!await ValidateAsync(doc, ct))
        {
            return GraphResponse.Error(400, "ValidationError",
                "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.");
        }

        Store.InTransaction(s =>
        {
            s.PutSubscription(id, doc);
            return 0;
        });
        return GraphResponse.Json(SubscriptionJson(doc, true), 201);
    }

    private async Task<GraphResponse> RenewSubscriptionAsync(GraphRequest r, string id, CancellationToken ct)
    {
        var doc = Store.Read(s => s.GetSubscription(id));
        if (doc is null)
        {
            return GraphResponse.NotFound("subscription", id);
        }

        var expiration = Date(RequireBody(r)["expirationDateTime"]);
        if (InvalidExpiration(expiration) is { } problem)
        {
            return problem;
        }

        if (!await ValidateAsync(doc, ct))
        {
            return GraphResponse.Error(400, "ValidationError",
                "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.");
        }

        doc["expirationDateTime"] = GraphEmulator.Timestamp(expiration!.Value);
        Store.InTransaction(s =>
        {
            s.PutSubscription(id, doc);
            return 0;
        });
        return GraphResponse.Json(SubscriptionJson(doc, false));
    }

    private GraphResponse DeleteSubscription(string id) =>
        Store.InTransaction(s => s.DeleteSubscription(id)) ? GraphResponse.NoContent() : GraphResponse.NotFound("subscription", id);

    private GraphResponse Reauthorize(string id) =>
        Store.Read(s => s.GetSubscription(id)) is null ? GraphResponse.NotFound("subscription", id) : GraphResponse.NoContent();
}
