using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace EntraSnow.Sandbox.ServiceNow.Catalog;

/// <summary>Settings under <c>Sandbox:ServiceNow:Webhooks</c>: where the emulated ServiceNow app sends its webhooks and what it signs them with.</summary>
public sealed class ServiceNowEmulatorWebhookOptions
{
    public const string Section = "Sandbox:ServiceNow:Webhooks";

    /// <summary>The documented sandbox secret (README): EntraSnow accepts it only when ServiceNow is emulated and no secret is configured.</summary>
    public const string DefaultSigningSecret = "entrasnow-sandbox-webhook-signing-secret";

    /// <summary>EntraSnow's root URL; the routes under it are <c>/api/servicenow/…</c>.</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:7071";

    public string SigningSecret { get; set; } = DefaultSigningSecret;
}

/// <summary>What EntraSnow answered to one webhook.</summary>
public sealed record WebhookSendResult(string RequestId, int StatusCode, string Body);

/// <summary>
/// Signs and sends webhooks the way the shipped ServiceNow app's script include does: headers
/// <c>X-EntraSnow-Timestamp</c> (Unix seconds), <c>X-EntraSnow-Request-Id</c> (new per request) and
/// <c>X-EntraSnow-Signature</c> = <c>sha256=</c> + lowercase hex HMAC-SHA256 over <c>{timestamp}.{body}</c>.
/// Written from the recipe, independently of EntraSnow's verifier, so tests show the two agree.
/// </summary>
public sealed class ServiceNowWebhookSender(IHttpClientFactory httpClientFactory, IOptions<ServiceNowEmulatorWebhookOptions> options, TimeProvider clock)
{
    public const string HttpClientName = "EntraSnow.Sandbox.ServiceNow.Webhooks";

    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new byte[Encoding.UTF8.GetByteCount(timestamp) + 1 + body.Length];
        var at = Encoding.UTF8.GetBytes(timestamp, signed);
        signed[at] = (byte)'.';
        body.CopyTo(signed.AsSpan(at + 1));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>
    /// A signed POST of <paramref name="body"/> to <paramref name="path"/> (e.g. <c>/api/servicenow/password-reset</c>).
    /// Tests pass <paramref name="requestId"/> or <paramref name="signedAt"/> to send a replay or a stale request.
    /// </summary>
    public HttpRequestMessage CreateRequest(string path, byte[] body, string? requestId = null, DateTimeOffset? signedAt = null, string? secret = null)
    {
        var settings = options.Value;
        var timestamp = (signedAt ?? clock.GetUtcNow()).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(settings.BaseUrl.TrimEnd('/') + path))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("X-EntraSnow-Timestamp", timestamp);
        request.Headers.Add("X-EntraSnow-Request-Id", requestId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-EntraSnow-Signature", Sign(secret ?? settings.SigningSecret, timestamp, body));
        return request;
    }

    public async Task<WebhookSendResult> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var client = httpClientFactory.CreateClient(HttpClientName);
        using var response = await client.SendAsync(request, cancellationToken);
        var requestId = request.Headers.GetValues("X-EntraSnow-Request-Id").Single();
        return new WebhookSendResult(requestId, (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public Task<WebhookSendResult> SendAsync(string path, byte[] body, CancellationToken cancellationToken) =>
        SendAsync(CreateRequest(path, body), cancellationToken);
}
