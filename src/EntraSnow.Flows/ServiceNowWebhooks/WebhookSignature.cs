using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EntraSnow.Flows.ServiceNowWebhooks;

/// <summary>
/// The signature ServiceNow puts on every webhook it sends EntraSnow: <c>X-EntraSnow-Signature</c> =
/// <c>sha256=</c> + lowercase hex HMAC-SHA256 over <c>{timestamp}.{raw body}</c> with the shared secret, where the
/// timestamp is the <c>X-EntraSnow-Timestamp</c> header (Unix seconds). No clock and no store here: just the maths,
/// so a contract test can check what the ServiceNow app sends.
/// </summary>
public static class WebhookSignature
{
    public const string TimestampHeader = "X-EntraSnow-Timestamp";
    public const string RequestIdHeader = "X-EntraSnow-Request-Id";
    public const string SignatureHeader = "X-EntraSnow-Signature";
    public const string Scheme = "sha256=";

    private static readonly System.Buffers.SearchValues<char> LowercaseHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The header value for <paramref name="body"/> signed at <paramref name="timestamp"/>.</summary>
    public static string Compute(string secret, string timestamp, ReadOnlySpan<byte> body) =>
        Scheme + Convert.ToHexStringLower(Mac(Encoding.UTF8.GetBytes(secret), timestamp, body));

    public static string Compute(string secret, long unixSeconds, ReadOnlySpan<byte> body) =>
        Compute(secret, unixSeconds.ToString(CultureInfo.InvariantCulture), body);

    /// <summary>
    /// True when <paramref name="signature"/> is the signature of <paramref name="body"/> at <paramref name="timestamp"/>
    /// under any of <paramref name="secrets"/>. Constant time: every secret is tried, the comparison never exits early.
    /// </summary>
    public static bool Matches(string? signature, string timestamp, ReadOnlySpan<byte> body, params IReadOnlyList<string> secrets)
    {
        if (signature is null || !signature.StartsWith(Scheme, StringComparison.Ordinal) || signature.Length != Scheme.Length + 64)
        {
            return false;
        }

        // Lowercase hex only, as the recipe says: one spelling per signature.
        var hex = signature.AsSpan(Scheme.Length);
        if (hex.ContainsAnyExcept(LowercaseHex))
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[32];
        Convert.FromHexString(hex, presented, out _, out _);

        var match = false;
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret))
            {
                match |= CryptographicOperations.FixedTimeEquals(presented, Mac(Encoding.UTF8.GetBytes(secret), timestamp, body));
            }
        }

        return match;
    }

    private static byte[] Mac(byte[] key, string timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Encoding.UTF8.GetBytes(timestamp + "."));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }
}
