using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Stores.AzureTables;

/// <summary>
/// Settings under <c>AzureTables</c>. In Azure: <see cref="Endpoint"/> and the managed identity (no secret anywhere).
/// Locally and in tests: <see cref="ConnectionString"/> (Azurite's well-known development account).
/// </summary>
public sealed class AzureTablesOptions : IValidatableObject
{
    public const string Section = "AzureTables";

    /// <summary>e.g. <c>https://{account}.table.core.windows.net</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>A user-assigned managed identity's client id; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    public string? ConnectionString { get; set; }

    /// <summary>Prefix of every table name, so several deployments can share an account.</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{0,29}$")]
    public string TablePrefix { get; set; } = "EntraSnow";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Endpoint is null && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult("AzureTables needs Endpoint (managed identity) or ConnectionString (Azurite).",
                [nameof(Endpoint), nameof(ConnectionString)]);
        }
    }
}
