using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.ServiceNowWebhooks;

/// <summary>The three headers a signed webhook carries, as received (any may be missing).</summary>
public sealed record WebhookHeaders(string? Timestamp, string? RequestId, string? Signature);

/// <summary>The verdict on one webhook: accepted (with the request id and signing time), or refused and why.</summary>
public sealed record WebhookVerdict(bool Accepted, string? Refusal, string RequestId, DateTimeOffset SignedAt)
{
    public static WebhookVerdict Refuse(string reason) => new(false, reason, string.Empty, default);
}

/// <summary>
/// Decides whether a webhook really comes from ServiceNow and is new: a configured secret, all three headers, a
/// timestamp within <see cref="ServiceNowWebhookOptions.Window"/> of now, a signature that matches the current or
/// previous secret, and a request id never accepted before. The id is remembered only once everything else passed,
/// so unsigned traffic cannot fill the store or burn ids. Refusal reasons name what was wrong, never a secret.
/// </summary>
public sealed class WebhookVerifier(
    IOptions<ServiceNowWebhookOptions> options,
    IWebhookReplayStore replays,
    TimeProvider clock,
    ILogger<WebhookVerifier> logger)
{
    public const int MaxRequestIdLength = 128;

    public async Task<WebhookVerdict> VerifyAsync(WebhookHeaders headers, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var secrets = options.Value.Secrets;
        if (secrets.Count == 0)
        {
            return Refused("ServiceNowWebhook:SigningSecret is not configured, so no webhook is accepted.");
        }

        if (string.IsNullOrEmpty(headers.Signature) || string.IsNullOrEmpty(headers.Timestamp) || string.IsNullOrEmpty(headers.RequestId))
        {
            return Refused($"The request must carry {WebhookSignature.TimestampHeader}, {WebhookSignature.RequestIdHeader} and {WebhookSignature.SignatureHeader}.");
        }

        if (headers.RequestId.Length > MaxRequestIdLength || !headers.RequestId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
        {
            return Refused($"{WebhookSignature.RequestIdHeader} must be 1 to {MaxRequestIdLength} letters, digits, '-', '_', '.' or ':'.");
        }

        if (!long.TryParse(headers.Timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return Refused($"{WebhookSignature.TimestampHeader} must be Unix time in seconds.");
        }

        var signedAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        var skew = (clock.GetUtcNow() - signedAt).Duration();
        if (skew > ServiceNowWebhookOptions.Window)
        {
            return Refused($"{WebhookSignature.TimestampHeader} is {skew.TotalSeconds:F0} s from now; at most {ServiceNowWebhookOptions.Window.TotalSeconds:F0} s is accepted.");
        }

        if (!WebhookSignature.Matches(headers.Signature, headers.Timestamp, body.Span, secrets))
        {
            return Refused($"{WebhookSignature.SignatureHeader} does not match the body and timestamp under the configured secret.");
        }

        if (!await replays.TryRememberAsync(headers.RequestId, signedAt, cancellationToken))
        {
            return Refused($"Request {headers.RequestId} was already received: a replay is not accepted.");
        }

        return new WebhookVerdict(true, null, headers.RequestId, signedAt);
    }

    /// <summary>Undoes <see cref="VerifyAsync"/>'s remembering when the request could not be queued, so the sender can retry it.</summary>
    public Task ReleaseAsync(WebhookVerdict verdict, CancellationToken cancellationToken) =>
        verdict.Accepted ? replays.ForgetAsync(verdict.RequestId, verdict.SignedAt, cancellationToken) : Task.CompletedTask;

    private WebhookVerdict Refused(string reason)
    {
        logger.LogWarning("Refused a ServiceNow webhook: {Reason}", reason);
        return WebhookVerdict.Refuse(reason);
    }
}
