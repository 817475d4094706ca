using System.ComponentModel.DataAnnotations;
using EntraSnow.Flows.Scheduling;

namespace EntraSnow.Flows.Risk;

/// <summary>Settings under <c>Risk</c>: polling Identity Protection and turning detections into ServiceNow incidents. Validated at start-up.</summary>
public sealed class RiskOptions
{
    public const string Section = "Risk";

    /// <summary>
    /// False turns the poller off in both hosts (it says so once in the log); detections already queued still become
    /// incidents. Off, <c>doctor</c> does not ask for IdentityRiskEvent.Read.All and the deployment does not grant it
    /// (<c>azd env set RISK_ENABLED false</c>).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// When the poller runs: six fields, seconds first, UTC, as the Functions TimerTrigger reads it (the Functions app's
    /// timer reads this same setting through <c>%Risk:PollSchedule%</c>).
    /// </summary>
    [Required]
    [CronSchedule]
    public string PollSchedule { get; set; } = "0 */5 * * * *";

    /// <summary>
    /// Every poll reads back this far before the stored watermark: offline detections arrive hours late with an older
    /// lastUpdatedDateTime. What was already queued dedupes on its message id.
    /// </summary>
    [TimeSpanRange("00:00:00", "30.00:00:00")]
    public TimeSpan Overlap { get; set; } = TimeSpan.FromHours(48);

    /// <summary>The tenant put on queued messages; defaults to <c>Graph:TenantId</c>.</summary>
    public string TenantId { get; set; } = string.Empty;
}
