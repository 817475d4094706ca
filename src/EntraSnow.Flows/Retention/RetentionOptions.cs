using System.ComponentModel.DataAnnotations;
using EntraSnow.Flows.Scheduling;

namespace EntraSnow.Flows.Retention;

/// <summary>Settings under <c>Retention</c>: how long what EntraSnow stores is kept, and when the retention job runs.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Six-field CRON (seconds first, UTC), for the local host's timer and the Functions TimerTrigger (<c>%Retention:Schedule%</c>).</summary>
    [Required]
    [CronSchedule]
    public string Schedule { get; set; } = "0 30 3 * * *";

    /// <summary>Provisioning log entries older than this are deleted.</summary>
    [TimeSpanRange("1.00:00:00", "3650.00:00:00")]
    public TimeSpan ProvisioningLog { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Dead-lettered messages older than this are deleted (the local host's queues, and Service Bus's dead-letter subqueues in Azure).</summary>
    [TimeSpanRange("1.00:00:00", "3650.00:00:00")]
    public TimeSpan DeadLetters { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// In Azure, the most Service Bus dead letters one run deletes per queue (each is received, then completed); older
    /// ones beyond it wait for the next run. The local host deletes its own in one statement.
    /// </summary>
    [Range(1, 1_000_000)]
    public int ServiceBusDeadLettersPerRun { get; set; } = 5000;

    /// <summary>
    /// The checkpoints of a user or group deleted in Entra ID (creation marker, membership ledger rows) and of finished
    /// sync runs are deleted this long after. 30 days at least: Entra restores a deleted object for 30 days.
    /// </summary>
    [TimeSpanRange("30.00:00:00", "3650.00:00:00")]
    public TimeSpan DeletedObjects { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The least <see cref="DeletedObjects"/> may be (its range's lower end): a groups run replayed later than this may have
    /// lost its summary tallies, and looks its summary records up before creating them.
    /// </summary>
    public static readonly TimeSpan ShortestDeletedObjects = TimeSpan.FromDays(30);
}
