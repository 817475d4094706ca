using System.Text;
using System.Text.Json;
using Azure.Core;

namespace EntraSnow.Connectors.Graph;

/// <summary>
/// The credential the Graph connector signs in with and the scope it asks for; also reads back which application
/// permissions (app roles) the token grants, for the doctor's pre-flight.
/// </summary>
public sealed class GraphAppCredential(TokenCredential credential, string scope)
{
    public TokenCredential Credential { get; } = credential;

    public string Scope { get; } = scope;

    /// <summary>
    /// The <c>roles</c> claim of a fresh app-only token: the application permissions admin consent granted, as Graph
    /// will judge the calls. Null when the token is not a JWT (nothing can be read from it).
    /// </summary>
    public async Task<IReadOnlyList<string>?> GrantedRolesAsync(CancellationToken cancellationToken = default)
    {
        var token = await Credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken);
        return RolesOf(token.Token);
    }

    /// <summary>The roles claim of a JWT (an empty list when it has none); null when the text is not a JWT.</summary>
    public static IReadOnlyList<string>? RolesOf(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            var padded = parts[1].Replace('-', '+').Replace('_', '/');
            using var payload = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4))));
            return payload.RootElement.TryGetProperty("roles", out var roles) && roles.ValueKind == JsonValueKind.Array
                ? [.. roles.EnumerateArray().Select(r => r.GetString() ?? string.Empty)]
                : [];
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }
}
