using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Connectors.ServiceNow;

public enum ServiceNowAuthMode
{
    /// <summary>OAuth 2.0 client credentials against /oauth_token.do (the future-proof choice).</summary>
    OAuth,

    /// <summary>Basic auth, for instances that still allow it for REST.</summary>
    Basic,
}

/// <summary>
/// Settings of section "ServiceNow". Secrets come from configuration (Key Vault in Azure); they are never logged.
/// Every resilience timing is configurable so tests can make them short.
/// </summary>
public sealed class ServiceNowOptions : IValidatableObject
{
    public const string SectionName = "ServiceNow";

    /// <summary>The instance root, e.g. https://dev35214.service-now.com or http://127.0.0.1:7071/sandbox/servicenow.</summary>
    [Required]
    public string InstanceUrl { get; set; } = string.Empty;

    public ServiceNowAuthMode AuthMode { get; set; } = ServiceNowAuthMode.OAuth;

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Requests in flight at once against the instance; the rest wait in line.</summary>
    [Range(1, 1024)]
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>
    /// When the instance's rate-limit rule has this share of the hour's requests left (or fewer than
    /// <see cref="MaxConcurrency"/>), the rest is spread evenly until the reset instead of spent at once.
    /// </summary>
    [Range(0.0, 1.0)]
    public double RateLimitSlowdownAt { get; set; } = 0.1;

    /// <summary>Requests allowed to wait for a concurrency slot before new ones are refused.</summary>
    [Range(0, 1_000_000)]
    public int ConcurrencyQueueLimit { get; set; } = 100_000;

    /// <summary>How long a reference lookup (department, location, manager, group) is remembered.</summary>
    [TimeSpanRange("00:00:00", "1.00:00:00")]
    public TimeSpan ReferenceCacheTtl { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The longest the connector waits out 429s for one call before giving up with <see cref="ServiceNowRateLimitedException"/>.</summary>
    [TimeSpanRange("00:00:00", "01:00:00")]
    public TimeSpan RetryAfterPatience { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries of 5xx answers and timeouts (429s are governed by <see cref="RetryAfterPatience"/>).</summary>
    [Range(0, 20)]
    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>First backoff delay; later ones grow exponentially, with jitter.</summary>
    [TimeSpanRange("00:00:00", "00:10:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Timeout of one attempt; zero turns it off (the caller's cancellation still applies).</summary>
    [TimeSpanRange("00:00:00", "00:10:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [Range(0.01, 1.0)]
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    [Range(2, 10_000)]
    public int CircuitBreakerMinimumThroughput { get; set; } = 10;

    [TimeSpanRange("00:00:00.500", "01:00:00")]
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    [TimeSpanRange("00:00:00.500", "01:00:00")]
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>sysparm_limit of each page when following Link rel="next".</summary>
    [Range(1, 10_000)]
    public int PageSize { get; set; } = 1000;

    /// <summary>An OAuth token is refreshed this long before it expires.</summary>
    [TimeSpanRange("00:00:00", "00:30:00")]
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromMinutes(1);

    internal Uri BaseUri => new(InstanceUrl.TrimEnd('/') + "/", UriKind.Absolute);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(InstanceUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            yield return new ValidationResult("ServiceNow:InstanceUrl must be an absolute http(s) URL.", [nameof(InstanceUrl)]);
        }
        else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            yield return new ValidationResult("ServiceNow:InstanceUrl must not carry a query or fragment.", [nameof(InstanceUrl)]);
        }

        if (AuthMode == ServiceNowAuthMode.OAuth && (string.IsNullOrWhiteSpace(ClientId) || string.IsNullOrWhiteSpace(ClientSecret)))
        {
            yield return new ValidationResult("ServiceNow:ClientId and ServiceNow:ClientSecret are required with AuthMode OAuth.", [nameof(ClientId), nameof(ClientSecret)]);
        }

        if (AuthMode == ServiceNowAuthMode.Basic && (string.IsNullOrWhiteSpace(Username) || string.IsNullOrEmpty(Password)))
        {
            yield return new ValidationResult("ServiceNow:Username and ServiceNow:Password are required with AuthMode Basic.", [nameof(Username), nameof(Password)]);
        }
    }
}
