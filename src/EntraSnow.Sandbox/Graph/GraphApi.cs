using System.Globalization;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// The Graph v1.0 endpoints EntraSnow uses, as one dispatcher so <c>$batch</c> can run the same code per item.
/// Shapes follow Graph: collections in <c>value</c> with <c>@odata.nextLink</c>, delta pages ending in
/// <c>@odata.deltaLink</c>, errors as <c>{"error":{"code","message"}}</c>.
/// </summary>
internal sealed partial class GraphApi(GraphEmulator emulator)
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 999;
    private const int RiskDetectionsMaxPageSize = 500;
    private const int BatchLimit = 20;

    private static readonly string[] EventGridParameters = ["azuresubscriptionid", "resourcegroup", "partnertopic", "location"];

    private static readonly string[] DefaultUserProperties =
        ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"];

    private static readonly string[] DefaultGroupProperties =
        ["id", "displayName", "description", "mail", "mailEnabled", "securityEnabled", "groupTypes", "isAssignableToRole"];

    private GraphStore Store => emulator.Store;

    public async Task<GraphResponse> HandleAsync(GraphRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await RouteAsync(request, cancellationToken);
        }
        catch (FormatException ex)
        {
            return GraphResponse.Error(400, "BadRequest", ex.Message);
        }
    }

    private async Task<GraphResponse> RouteAsync(GraphRequest r, CancellationToken ct)
    {
        var s = Segments(r.Path);
        var method = r.Method.ToUpperInvariant();
        return (method, s.Length) switch
        {
            ("POST", 1) when s[0] == "$batch" => await BatchAsync(r, ct),
            ("GET", 1) when s[0] == "users" => ListUsers(r),
            ("POST", 1) when s[0] == "users" => CreateUser(r),
            ("GET", 2) when s[0] == "users" && s[1] == "delta" => UsersDelta(r),
            ("GET", 2) when s[0] == "users" => emulator.CountUserRead(GetUser(r, s[1])),
            ("PATCH", 2) when s[0] == "users" => PatchUser(r, s[1]),
            ("DELETE", 2) when s[0] == "users" => DeleteUser(s[1]),
            ("GET", 3) when s[0] == "users" && s[2] == "manager" => GetManager(r, s[1]),
            ("PUT", 4) when s[0] == "users" && s[2] == "manager" && s[3] == "$ref" => PutManager(r, s[1]),
            ("GET", 3) when s[0] == "users" && s[2] == "memberOf" => MemberOf(r, s[1]),
            ("POST", 3) when s[0] == "users" && s[2] == "revokeSignInSessions" => RevokeSessions(r, s[1]),
            ("POST", 4) when s[0] == "users" && s[2] == "authentication" && s[3] == "temporaryAccessPassMethods" => CreateAccessPass(r, s[1]),
            ("GET", 1) when s[0] == "groups" => ListGroups(r),
            ("POST", 1) when s[0] == "groups" => CreateGroup(r),
            ("GET", 2) when s[0] == "groups" && s[1] == "delta" => GroupsDelta(r),
            ("GET", 2) when s[0] == "groups" => GetGroup(r, s[1]),
            ("GET", 3) when s[0] == "groups" && s[2] == "members" => ListMembers(r, s[1]),
            ("POST", 4) when s[0] == "groups" && s[2] == "members" && s[3] == "$ref" => AddMember(r, s[1]),
            ("DELETE", 5) when s[0] == "groups" && s[2] == "members" && s[4] == "$ref" => RemoveMember(s[1], s[3]),
            ("DELETE", 4) when s[0] == "groups" && s[2] == "members" && s[3] == "$ref" && r.Query.TryGetValue("$id", out var refId) => RemoveMember(s[1], LastSegment(refId)),
            ("GET", 2) when s[0] == "identityProtection" && s[1] == "riskDetections" => ListRiskDetections(r),
            ("GET", 1) when s[0] == "subscribedSkus" => SubscribedSkus(r),
            ("GET", 1) when s[0] == "subscriptions" => ListSubscriptions(r),
            ("POST", 1) when s[0] == "subscriptions" => await CreateSubscriptionAsync(r, ct),
            ("GET", 2) when s[0] == "subscriptions" => GetSubscription(s[1]),
            ("PATCH", 2) when s[0] == "subscriptions" => await RenewSubscriptionAsync(r, s[1], ct),
            ("DELETE", 2) when s[0] == "subscriptions" => DeleteSubscription(s[1]),
            ("POST", 3) when s[0] == "subscriptions" && s[2] == "reauthorize" => Reauthorize(s[1]),
            _ => RouteMailAndRoles(method, s, r) ?? RouteDirectoryAudits(method, s, r) ?? GraphResponse.Error(400, "BadRequest", $"Resource not found for the segment '{r.Path}'."),
        };
    }

    /// <summary>Path segments without the SDK's decorations: <c>microsoft.graph.delta()</c> and <c>delta()</c> become <c>delta</c>.</summary>
    private static string[] Segments(string path) => path.Trim('/')
        .Split('/', StringSplitOptions.RemoveEmptyEntries)
        .Select(Uri.UnescapeDataString)
        .Select(p => p.StartsWith("microsoft.graph.", StringComparison.OrdinalIgnoreCase) ? p["microsoft.graph.".Length..] : p)
        .Select(p => p.EndsWith("()", StringComparison.Ordinal) ? p[..^2] : p)
        .Select(p => string.Equals(p, "identityprotection", StringComparison.OrdinalIgnoreCase) ? "identityProtection" : p)
        .Select((p, i) => i == 0 ? p.ToLowerInvariant() switch { "users" => "users", "groups" => "groups", "subscriptions" => "subscriptions", _ => p } : p)
        .ToArray();

    private static string LastSegment(string url) => url.TrimEnd('/').Split('/')[^1];

    private static string? Q(GraphRequest r, string name) => r.Query.TryGetValue(name, out var v) ? v : null;

    private static int Top(GraphRequest r, int fallback, int max)
    {
        var text = Q(r, "$top");
        if (text is null)
        {
            return Math.Min(fallback, r.MaxPageSize ?? fallback);
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var top) || top < 1 || top > max)
        {
            throw new FormatException($"Invalid page size specified: '{text}'. Must be between 1 and {max} inclusive.");
        }

        return top;
    }

    private static string[]? Select(string? select) =>
        string.IsNullOrWhiteSpace(select) ? null : select.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static JsonObject Project(JsonObject doc, IEnumerable<string> properties)
    {
        var result = new JsonObject();
        foreach (var name in properties.Prepend("id").Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var match = doc.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase));
            result[match.Key ?? name] = match.Value?.DeepClone();
        }

        return result;
    }

    /// <summary>The next page's URL: the same query with a new $skiptoken (Graph keeps the query in the link).</summary>
    private static string NextLink(GraphRequest r, string path, string skipToken)
    {
        var query = r.Query.Where(p => p.Key != "$skiptoken")
            .Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}")
            .Append($"$skiptoken={skipToken}");
        return $"{r.ServiceRoot}/{path}?{string.Join('&', query)}";
    }

    private static JsonObject Collection(GraphRequest r, string context, IEnumerable<JsonNode> items, string? nextLink)
    {
        var body = new JsonObject
        {
            ["@odata.context"] = $"{r.ServiceRoot}/$metadata#{context}",
        };
        if (nextLink is not null)
        {
            body["@odata.nextLink"] = nextLink;
        }

        body["value"] = new JsonArray([.. items]);
        return body;
    }

    private static JsonObject RequireBody(GraphRequest r) =>
        r.Body as JsonObject ?? throw new FormatException("Empty Payload. JSON content expected.");

    // ---- risk detections ---------------------------------------------------------------------------------------------

    private GraphResponse ListRiskDetections(GraphRequest r)
    {
        if (!emulator.IdentityProtection.TryEnter())
        {
            return IdentityProtectionLimit.TooManyRequests();
        }

        var filter = Q(r, "$filter") is { } f ? ODataFilter.Parse(f) : null;
        var top = Top(r, DefaultPageSize, RiskDetectionsMaxPageSize);
        var after = Q(r, "$skiptoken") is { } token ? PageToken.Decode(token, 1)[0] : null;
        var found = Store.Read(s => s.ScanRiskDetections(after).Where(d => filter is null || filter.Matches(d)).Take(top + 1).ToList());
        var page = found.Take(top).ToList();
        var next = found.Count > top ? NextLink(r, "identityProtection/riskDetections", PageToken.Encode(page[^1]["id"]!.GetValue<string>())) : null;
        return GraphResponse.Json(Collection(r, "identityProtection/riskDetections", page, next));
    }
}
