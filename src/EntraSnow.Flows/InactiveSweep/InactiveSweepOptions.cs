using System.ComponentModel.DataAnnotations;
using EntraSnow.Flows.Scheduling;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>How guests are swept.</summary>
public enum GuestPolicy
{
    /// <summary>Guests are reviewed like members.</summary>
    Include,

    /// <summary>Guests are never reviewed.</summary>
    Exclude,

    /// <summary>Guests are reviewed after <see cref="InactiveSweepOptions.GuestInactiveDays"/> instead of <see cref="InactiveSweepOptions.InactiveDays"/>.</summary>
    OwnThreshold,
}

/// <summary>What a review raises in ServiceNow.</summary>
public enum ReviewMode
{
    /// <summary>One task per account per review cycle.</summary>
    TaskPerAccount,

    /// <summary>One review request per cycle listing every account.</summary>
    SingleRequest,
}

/// <summary>How long a review cycle lasts: an account gets at most one task per cycle.</summary>
public enum ReviewCycle
{
    Weekly,
    Monthly,
    Quarterly,
}

/// <summary>The <c>InactiveSweep</c> settings, validated at start-up.</summary>
public sealed class InactiveSweepOptions
{
    public const string Section = "InactiveSweep";

    /// <summary>Off by default: a sweep raises work for people, so it needs an assignment group chosen on purpose.</summary>
    public bool Enabled { get; set; }

    /// <summary>Six-field CRON, seconds first, UTC (the Functions TimerTrigger reads the same setting).</summary>
    [Required]
    [CronSchedule]
    public string Schedule { get; set; } = "0 0 3 * * *";

    /// <summary>Accounts whose last successful sign-in is older than this are reviewed.</summary>
    [Range(1, 3650)]
    public int InactiveDays { get; set; } = 90;

    /// <summary>Accounts that never signed in are reviewed once they are older than this.</summary>
    [Range(1, 3650)]
    public int NeverSignedInDays { get; set; } = 30;

    public GuestPolicy Guests { get; set; } = GuestPolicy.Include;

    /// <summary>With <see cref="GuestPolicy.OwnThreshold"/>: guests are reviewed after this many days without a sign-in.</summary>
    [Range(1, 3650)]
    public int GuestInactiveDays { get; set; } = 30;

    /// <summary>Object ids of break-glass groups: their direct members are never reviewed, never disabled.</summary>
    public List<string> BreakGlassGroupIds { get; set; } = [];

    /// <summary>A Graph user attribute (e.g. <c>employeeType</c>) that marks service accounts, with <see cref="ServiceAccountValue"/>.</summary>
    public string? ServiceAccountAttribute { get; set; }

    public string? ServiceAccountValue { get; set; }

    /// <summary>The ServiceNow table review tasks go to.</summary>
    [Required]
    public string Table { get; set; } = "sc_task";

    /// <summary>The sys_user_group (by name) reviews are assigned to; required when enabled, resolved once at start-up.</summary>
    public string? AssignmentGroup { get; set; }

    public ReviewMode Mode { get; set; } = ReviewMode.TaskPerAccount;

    public ReviewCycle Cycle { get; set; } = ReviewCycle.Monthly;

    /// <summary>Open review tasks whose account signed in again are closed with a note.</summary>
    public bool CloseWhenSignedInAgain { get; set; } = true;

    /// <summary>
    /// Disable an account in Entra once its review task is approved (the task's <c>approval</c> is <c>approved</c>, also on a
    /// task the reviewer closed in this cycle or the previous one) or, with <see cref="GraceDays"/>, left unanswered that
    /// long; never a break-glass account, never one that signed in again.
    /// Off by default: it changes the directory, not only ServiceNow.
    /// </summary>
    public bool DisableAccounts { get; set; }

    /// <summary>With <see cref="DisableAccounts"/>: an open review task neither approved nor rejected this many days after it was opened disables the account too. Unset: only an approval does.</summary>
    [Range(1, 365)]
    public int? GraceDays { get; set; }

    /// <summary>Review tasks created at once.</summary>
    [Range(1, 64)]
    public int MaxConcurrency { get; set; } = 8;
}
