using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Flows.ServiceNowWebhooks;

/// <summary>Settings under <c>ServiceNowWebhook</c>: the secret ServiceNow signs its webhooks with.</summary>
public sealed class ServiceNowWebhookOptions : IValidatableObject
{
    public const string Section = "ServiceNowWebhook";

    /// <summary>How far a request's timestamp may be from now, either way, before it is refused as stale.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The shared HMAC secret (the ServiceNow app's password property). Unset, every webhook is refused: the routes
    /// never run unauthenticated.
    /// </summary>
    [MinLength(32, ErrorMessage = "ServiceNowWebhook:SigningSecret must be at least 32 characters long.")]
    [MaxLength(512, ErrorMessage = "ServiceNowWebhook:SigningSecret may be at most 512 characters long.")]
    public string? SigningSecret { get; set; }

    /// <summary>The previous secret, still accepted while ServiceNow is switched to the new one. Remove it once rotation is done.</summary>
    [MinLength(32, ErrorMessage = "ServiceNowWebhook:PreviousSigningSecret must be at least 32 characters long.")]
    [MaxLength(512, ErrorMessage = "ServiceNowWebhook:PreviousSigningSecret may be at most 512 characters long.")]
    public string? PreviousSigningSecret { get; set; }

    public IReadOnlyList<string> Secrets =>
        new[] { SigningSecret, PreviousSigningSecret }.Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).ToArray();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(SigningSecret) && !string.IsNullOrEmpty(PreviousSigningSecret))
        {
            yield return new ValidationResult(
                "ServiceNowWebhook:PreviousSigningSecret is set without ServiceNowWebhook:SigningSecret: set the new secret too.",
                [nameof(SigningSecret)]);
        }

        if (!string.IsNullOrEmpty(SigningSecret) && SigningSecret == PreviousSigningSecret)
        {
            yield return new ValidationResult(
                "ServiceNowWebhook:PreviousSigningSecret equals ServiceNowWebhook:SigningSecret: remove it, or set the new secret.",
                [nameof(PreviousSigningSecret)]);
        }
    }
}
