using System.ComponentModel.DataAnnotations;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>Settings under <c>LocalHost</c>.</summary>
public sealed class LocalHostOptions : IValidatableObject
{
    public const string Section = "LocalHost";

    /// <summary>The folder for the SQLite files (queues, checkpoints, provisioning log, emulators).</summary>
    [Required]
    public string DataPath { get; set; } = "./.entrasnow";

    /// <summary>false runs intake and timers only, leaving queued work untouched (draining, debugging).</summary>
    public bool RunConsumers { get; set; } = true;

    /// <summary>false leaves the timers (subscription upkeep, full sync, …) off.</summary>
    public bool RunTimers { get; set; } = true;

    /// <summary>Where the local host listens; the Functions host's default port.</summary>
    [Required]
    [Url]
    public string Url { get; set; } = "http://127.0.0.1:7071";

    /// <summary>
    /// Messages processed at once per queue (messages about one object are still processed one at a time). Unset: twice
    /// ServiceNow:MaxConcurrency, so the ServiceNow budget, not this number, paces the work.
    /// </summary>
    [Range(1, 1024)]
    public int? ConsumerConcurrency { get; set; }

    /// <summary>
    /// In sandbox mode, also listen here over HTTPS with the sandbox's development certificate (`sandbox cert` exports
    /// it): <c>serve</c> defaults it to https://127.0.0.1:7443; empty turns HTTPS off.
    /// </summary>
    public string? SandboxHttpsUrl { get; set; }

    public string QueueDatabase => Path.Combine(DataPath, "queues.db");

    public string CheckpointDatabase => Path.Combine(DataPath, "checkpoints.db");

    public string WebhookReplayDatabase => Path.Combine(DataPath, "webhook-requests.db");

    public string ProvisioningLogDatabase => Path.Combine(DataPath, "provisioning-log.db");

    public string SandboxPath => Path.Combine(DataPath, "sandbox");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(SandboxHttpsUrl)
            && !(Uri.TryCreate(SandboxHttpsUrl, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps))
        {
            yield return new ValidationResult("LocalHost:SandboxHttpsUrl must be an https:// URL, or empty to serve no HTTPS.", [nameof(SandboxHttpsUrl)]);
        }
    }
}
