using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>Issues and checks the emulator's opaque OAuth access tokens.</summary>
public sealed class ServiceNowTokenIssuer(IOptions<ServiceNowEmulatorOptions> options, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);

    internal (string Token, TimeSpan Lifetime) Issue()
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        var lifetime = options.Value.TokenLifetime;
        _tokens[token] = timeProvider.GetUtcNow() + lifetime;
        return (token, lifetime);
    }

    internal bool IsValid(string token) => _tokens.TryGetValue(token, out var expiresAt) && timeProvider.GetUtcNow() < expiresAt;

    /// <summary>Every token issued so far stops working (as if it expired early or was revoked).</summary>
    public void ExpireAll() => _tokens.Clear();
}
