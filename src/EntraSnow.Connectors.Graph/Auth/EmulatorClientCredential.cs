using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Azure.Core;

namespace EntraSnow.Connectors.Graph.Auth;

/// <summary>
/// Client credentials against the Graph emulator's token endpoint (sandbox mode), so the emulator can check the
/// Authorization header just as Graph does. Tokens are cached until shortly before they expire.
/// </summary>
internal sealed class EmulatorClientCredential(
    IHttpClientFactory httpClientFactory,
    Uri tokenUrl,
    string clientId,
    string clientSecret,
    TimeProvider clock) : TokenCredential, IDisposable
{
    public const string HttpClientName = "EntraSnow.Graph.EmulatorToken";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private AccessToken? _cached;

    public void Dispose() => _gate.Dispose();

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } cached && cached.ExpiresOn - TimeSpan.FromMinutes(5) > clock.GetUtcNow())
            {
                return cached;
            }

            using var client = httpClientFactory.CreateClient(HttpClientName);
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = clientId,
                ["client_secret"] = clientSecret,
                ["scope"] = string.Join(' ', requestContext.Scopes),
            });
            using var response = await client.PostAsync(tokenUrl, form, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                // The body may echo request details; only the status goes into the exception.
                throw new GraphRequestException($"The emulator's token endpoint answered {(int)response.StatusCode}.",
                    (int)response.StatusCode, "invalid_client");
            }

            var token = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken)
                ?? throw new GraphUnavailableException("The emulator's token endpoint returned no token.");
            _cached = new AccessToken(token.AccessToken, clock.GetUtcNow().AddSeconds(token.ExpiresIn));
            return _cached.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);
}
