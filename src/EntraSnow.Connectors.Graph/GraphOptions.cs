using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Connectors.Graph;

/// <summary>How the connector gets its Graph tokens.</summary>
public enum GraphCredentialKind
{
    /// <summary>The Functions app's managed identity (system-assigned, or user-assigned with <see cref="GraphOptions.ManagedIdentityClientId"/>).</summary>
    ManagedIdentity,
    ClientSecret,
    Certificate,

    /// <summary>Whatever the developer is signed in with (Azure CLI, Visual Studio, azd…).</summary>
    Developer,

    /// <summary>Client credentials against the bundled Graph emulator's token endpoint.</summary>
    Sandbox,
}

/// <summary>Settings under <c>Graph</c>. Validated at start-up: a missing secret fails the host, not the first request.</summary>
public sealed class GraphOptions : IValidatableObject
{
    public const string Section = "Graph";

    public const string DefaultBaseUrl = "https://graph.microsoft.com/v1.0";

    public string? TenantId { get; set; }

    public string? ClientId { get; set; }

    /// <summary>The API root, e.g. <c>https://graph.microsoft.com/v1.0</c>, or the emulator's <c>http://127.0.0.1:7071/sandbox/graph/v1.0</c>.</summary>
    [Required]
    public string BaseUrl { get; set; } = DefaultBaseUrl;

    public GraphCredentialKind Credential { get; set; } = GraphCredentialKind.ManagedIdentity;

    public string? ClientSecret { get; set; }

    /// <summary>A PFX or PEM file holding the app's certificate and private key.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>For a user-assigned managed identity; empty means the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Sandbox only: the emulator's token endpoint. Default: next to <see cref="BaseUrl"/>, <c>{root}/{tenant}/oauth2/v2.0/token</c>.</summary>
    public string? TokenUrl { get; set; }

    /// <summary>Attempts after a 429/503/504 before giving up with <see cref="GraphUnavailableException"/>.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 4;

    /// <summary>First wait when Graph throttles without a Retry-After; it doubles on each attempt.</summary>
    [TimeSpanRange("00:00:00", "00:01:00")]
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Each backoff is stretched by a random share of itself up to this (0.5: 2 s becomes 2–3 s); 0 waits exactly.</summary>
    [Range(0.0, 1.0)]
    public double BackoffJitter { get; set; } = 0.5;

    /// <summary>A Retry-After longer than this is not waited out inline: the caller gets it and reschedules.</summary>
    [TimeSpanRange("00:00:01", "00:10:00")]
    public TimeSpan MaxRetryWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Identity Protection allows one request per second per tenant.</summary>
    [TimeSpanRange("00:00:00", "00:01:00")]
    public TimeSpan IdentityProtectionMinInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Page size for <c>signInActivity</c> queries: 500 where Graph allows it (120 is the fallback).</summary>
    [Range(1, 999)]
    public int SignInActivityPageSize { get; set; } = 500;

    public Uri BaseUri => new(BaseUrl.TrimEnd('/'), UriKind.Absolute);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var baseUri)
            || !(baseUri.Scheme == Uri.UriSchemeHttps || (baseUri.Scheme == Uri.UriSchemeHttp && baseUri.IsLoopback)))
        {
            yield return new ValidationResult("Graph:BaseUrl must be an absolute https URL (http only on loopback, for the emulator).", [nameof(BaseUrl)]);
        }

        switch (Credential)
        {
            case GraphCredentialKind.ClientSecret:
                foreach (var missing in Missing((nameof(TenantId), TenantId), (nameof(ClientId), ClientId), (nameof(ClientSecret), ClientSecret)))
                {
                    yield return missing;
                }

                break;
            case GraphCredentialKind.Certificate:
                foreach (var missing in Missing((nameof(TenantId), TenantId), (nameof(ClientId), ClientId), (nameof(CertificatePath), CertificatePath)))
                {
                    yield return missing;
                }

                break;
            case GraphCredentialKind.Sandbox when TokenUrl is not null && !Uri.TryCreate(TokenUrl, UriKind.Absolute, out _):
                yield return new ValidationResult("Graph:TokenUrl must be an absolute URL.", [nameof(TokenUrl)]);
                break;
        }
    }

    private IEnumerable<ValidationResult> Missing(params (string Name, string? Value)[] settings) =>
        settings.Where(s => string.IsNullOrWhiteSpace(s.Value))
            .Select(s => new ValidationResult($"Graph:{s.Name} is required when Graph:Credential is {Credential}.", [s.Name]));
}
