using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// Builds the Authorization header: a cached OAuth client-credentials token (refreshed before it expires, one refresh
/// at a time) or basic auth. Neither the secret nor the token ever reaches a log line or an exception.
/// </summary>
internal sealed class ServiceNowTokenSource(
    IHttpClientFactory httpClientFactory,
    IOptions<ServiceNowOptions> options,
    TimeProvider timeProvider,
    ILogger<ServiceNowTokenSource> logger) : IDisposable
{
    internal const string TokenClientName = "EntraSnow.ServiceNow.OAuth";

    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private volatile CachedToken? _token;

    public async ValueTask<AuthenticationHeaderValue> GetHeaderAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.AuthMode == ServiceNowAuthMode.Basic)
        {
            var raw = Encoding.UTF8.GetBytes($"{settings.Username}:{settings.Password}");
            return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(raw));
        }

        var token = await GetTokenAsync(rejected: null, cancellationToken);
        return new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The instance refused <paramref name="rejectedHeader"/>: get a new token unless another caller already did.</summary>
    public async ValueTask<AuthenticationHeaderValue?> RefreshAfterRejectionAsync(AuthenticationHeaderValue rejectedHeader, CancellationToken cancellationToken)
    {
        if (options.Value.AuthMode == ServiceNowAuthMode.Basic)
        {
            return null; // Nothing to refresh: the password itself was refused.
        }

        var token = await GetTokenAsync(rejectedHeader.Parameter, cancellationToken);
        return new AuthenticationHeaderValue("Bearer", token);
    }

    private async ValueTask<string> GetTokenAsync(string? rejected, CancellationToken cancellationToken)
    {
        var current = _token;
        if (current is not null && current.AccessToken != rejected && !IsDue(current))
        {
            return current.AccessToken;
        }

        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have refreshed while this one waited at the gate.
            current = _token;
            if (current is not null && current.AccessToken != rejected && !IsDue(current))
            {
                return current.AccessToken;
            }

            _token = await RequestTokenAsync(cancellationToken);
            return _token.AccessToken;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private bool IsDue(CachedToken token) => timeProvider.GetUtcNow() >= token.ExpiresAt - options.Value.TokenRefreshMargin;

    private async Task<CachedToken> RequestTokenAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var client = httpClientFactory.CreateClient(TokenClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(settings.BaseUri, "oauth_token.do"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = settings.ClientId ?? string.Empty,
                ["client_secret"] = settings.ClientSecret ?? string.Empty,
            }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        var requestedAt = timeProvider.GetUtcNow();
        using var response = await client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest)
        {
            logger.LogWarning("ServiceNow refused the OAuth client credentials ({StatusCode})", (int)response.StatusCode);
            throw new ServiceNowUnauthorizedException("ServiceNow refused the OAuth client credentials.", ReadOAuthError(body));
        }

        if (!response.IsSuccessStatusCode)
        {
            // 5xx or 429 from the token endpoint: let the caller's resilience pipeline treat it like any failed attempt.
            throw new HttpRequestException($"The OAuth token endpoint answered {(int)response.StatusCode}.", null, response.StatusCode);
        }

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var accessToken = root.TryGetProperty("access_token", out var at) ? at.GetString() : null;
        if (string.IsNullOrEmpty(accessToken))
        {
            throw new ServiceNowUnauthorizedException("The OAuth token endpoint answered without an access token.");
        }

        var lifetime = root.TryGetProperty("expires_in", out var exp) && exp.ValueKind == JsonValueKind.Number
            ? TimeSpan.FromSeconds(exp.GetDouble())
            : TimeSpan.FromMinutes(30);
        logger.LogInformation("Obtained a ServiceNow OAuth token valid for {Lifetime}", lifetime);
        return new CachedToken(accessToken, requestedAt + lifetime);
    }

    private static string? ReadOAuthError(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error_description", out var d)
                ? d.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _refreshGate.Dispose();

    private sealed record CachedToken(string AccessToken, DateTimeOffset ExpiresAt);
}

/// <summary>
/// Sits inside the retry pipeline so every attempt carries a current token. A 401 on a bearer token means it expired
/// early or was revoked: the token is refreshed once and the request sent once more.
/// </summary>
internal sealed class ServiceNowAuthenticationHandler(ServiceNowTokenSource tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var header = await tokens.GetHeaderAsync(cancellationToken);
        request.Headers.Authorization = header;
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized || header.Scheme != "Bearer")
        {
            return response;
        }

        var renewed = await tokens.RefreshAfterRejectionAsync(header, cancellationToken);
        if (renewed is null)
        {
            return response;
        }

        response.Dispose();
        request.Headers.Authorization = renewed;
        return await base.SendAsync(request, cancellationToken);
    }
}
