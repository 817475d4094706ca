namespace EntraSnow.Flows.Scheduling;

/// <summary>
/// Work that runs on a timer: a TimerTrigger function in Azure (its schedule is the CRON expression), an
/// in-process timer in the local host (at the occurrences of <see cref="Schedule"/> when the job has one, else every
/// <see cref="Interval"/>). Jobs must be safe to run on several
/// instances at once and to be cut off half-way: the next run finishes what this one did not.
/// </summary>
public interface IScheduledJob
{
    /// <summary>Stable name, used in logs, the Functions app and the local host's command line.</summary>
    string Name { get; }

    /// <summary>How often the local host runs it when it has no <see cref="Schedule"/>.</summary>
    TimeSpan Interval { get; }

    /// <summary>
    /// The job's CRON schedule (six fields, seconds first, UTC: the TimerTrigger's syntax), from the job's settings.
    /// Null for jobs that run on an interval. The Functions timer reads the same setting through a %Setting% expression.
    /// </summary>
    CronSchedule? Schedule => null;

    /// <summary>Run once at host start (subscription upkeep does; a full sync does not).</summary>
    bool RunOnStart { get; }

    Task RunAsync(CancellationToken cancellationToken);
}
