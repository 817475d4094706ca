using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// Access tokens shaped like Entra ID's app-only tokens: a JWT whose payload carries <c>roles</c> (the application
/// permissions granted, <see cref="GraphEmulatorOptions.AppRoles"/>), <c>aud</c>, <c>tid</c>, <c>appid</c> and <c>exp</c>,
/// so a client can read what it was granted as it would from a real token. Signed with HMAC-SHA256 under a key kept in
/// the store: a file-backed emulator that restarts still accepts the tokens it issued.
/// </summary>
public sealed partial class GraphEmulator
{
    internal string IssueToken()
    {
        var now = Clock.GetUtcNow();
        var header = Encode(new JsonObject { ["typ"] = "JWT", ["alg"] = "HS256" });
        var payload = Encode(new JsonObject
        {
            ["aud"] = "https://graph.microsoft.com",
            ["iss"] = $"https://sts.windows.net/{Options.TenantId}/",
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            ["app_displayname"] = Options.ClientDisplayName,
            ["appid"] = Options.ClientId,
            ["idtyp"] = "app",
            ["roles"] = new JsonArray([.. Options.AppRoles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r => (JsonNode)JsonValue.Create(r))]),
            ["tid"] = Options.TenantId,
            ["ver"] = "1.0",
        });
        return $"{header}.{payload}.{Sign($"{header}.{payload}")}";
    }

    internal bool IsValidToken(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign($"{parts[0]}.{parts[1]}"));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[2])))
        {
            return false;
        }

        try
        {
            var payload = JsonNode.Parse(Base64UrlDecode(parts[1]));
            return payload?["exp"]?.GetValue<long>() is { } exp && exp > Clock.GetUtcNow().ToUnixTimeSeconds();
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    private string Sign(string payload) =>
        Base64UrlEncode(HMACSHA256.HashData(_tokenKey.Value, Encoding.ASCII.GetBytes(payload)));

    private static string Encode(JsonObject json) => Base64UrlEncode(Encoding.UTF8.GetBytes(json.ToJsonString()));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Base64UrlDecode(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
    }
}
