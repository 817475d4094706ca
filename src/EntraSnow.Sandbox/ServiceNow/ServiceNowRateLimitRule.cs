using Microsoft.Extensions.Options;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// The inbound REST rate-limit rule of <c>Sandbox:ServiceNow:RateLimitPerHour</c>, as a real instance applies one: Table
/// API requests are counted per user and clock hour; a request beyond the limit is refused until the hour ends. The
/// answers say so with the headers ServiceNow documents (X-RateLimit-Limit, X-RateLimit-Reset, X-RateLimit-Rule, and
/// Retry-After on a 429); ServiceNow sends no X-RateLimit-Remaining, so neither does this. Thread-safe.
/// </summary>
public sealed class ServiceNowRateLimitRule(IOptions<ServiceNowEmulatorOptions> options, TimeProvider clock)
{
    /// <summary>The sys_id of the emulated rule (X-RateLimit-Rule).</summary>
    public const string RuleSysId = "0c7b7a51dbd4330010a1e0d5ca961968";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private DateTimeOffset _hour;

    /// <summary>Whether a rule is configured at all.</summary>
    public bool Enabled => options.Value.RateLimitPerHour is not null;

    /// <summary>
    /// Counts one request of <paramref name="user"/>; false when the hour's limit is already used up (the request is
    /// refused and not counted). <paramref name="resetAt"/> is the start of the next hour.
    /// </summary>
    internal bool TryTake(string user, out int limit, out DateTimeOffset resetAt)
    {
        limit = options.Value.RateLimitPerHour ?? int.MaxValue;
        var now = clock.GetUtcNow();
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        resetAt = hour.AddHours(1);
        lock (_gate)
        {
            if (hour != _hour)
            {
                _hour = hour;
                _counts.Clear();
            }

            var used = _counts.GetValueOrDefault(user);
            if (used >= limit)
            {
                return false;
            }

            _counts[user] = used + 1;
            return true;
        }
    }
}
