using System.Text;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// One Graph call as the emulator sees it, whether it came over HTTP or from inside a <c>$batch</c>.
/// <see cref="EventualConsistency"/>: the call carried <c>ConsistencyLevel: eventual</c>, which directory advanced queries need.
/// </summary>
internal sealed record GraphRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Query,
    JsonNode? Body,
    string ServiceRoot,
    int? MaxPageSize = null,
    bool EventualConsistency = false);

internal sealed record GraphResponse(int Status, JsonNode? Body = null, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static GraphResponse Json(JsonNode body, int status = 200) => new(status, body);

    public static GraphResponse NoContent() => new(204);

    /// <summary>Graph's error shape: <c>{"error":{"code","message","innerError":{...}}}</c>.</summary>
    public static GraphResponse Error(int status, string code, string message, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code,
                ["message"] = message,
                ["innerError"] = new JsonObject
                {
                    ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss"),
                    ["request-id"] = Guid.NewGuid().ToString(),
                    ["client-request-id"] = Guid.NewGuid().ToString(),
                },
            },
        }, headers);

    public static GraphResponse NotFound(string what, string id) =>
        Error(404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present. ({what})");
}

/// <summary>Opaque tokens for paging and delta: what Graph hides in $skiptoken and $deltatoken, here base64url text.</summary>
internal static class PageToken
{
    public static string Encode(params object?[] parts) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Join('|', parts)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <exception cref="FormatException">Not a token this emulator issued.</exception>
    public static string[] Decode(string token, int parts)
    {
        var base64 = token.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        var fields = Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('|');
        return fields.Length == parts ? fields : throw new FormatException("Not a token this emulator issued.");
    }
}
