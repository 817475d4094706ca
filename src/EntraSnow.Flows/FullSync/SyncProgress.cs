using EntraSnow.Flows.ProvisioningLog;

namespace EntraSnow.Flows.FullSync;

public enum SyncPhase
{
    /// <summary>Reading users delta a page per message, comparing it with sys_user, then queueing one user.sync per user that differs, a slice per message.</summary>
    QueuingUsers,

    /// <summary>Consumers are provisioning the queued users.</summary>
    ProvisioningUsers,

    /// <summary>The groups delta run (sys_user_group, sys_user_grmember) is queued or running.</summary>
    ProvisioningGroups,

    Completed,
}

/// <summary>Where a full sync run stands. <see cref="Summary"/> is read from the provisioning log of the run.</summary>
public sealed record SyncProgress(
    string RunId,
    SyncPhase Phase,
    int UsersQueued,
    int UsersDone,
    bool GroupsDone,
    ProvisioningSummary Summary,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    bool TimedOut)
{
    /// <summary>0..1, for a progress bar: users count for 90%, groups for the rest.</summary>
    public double Fraction => Phase switch
    {
        SyncPhase.Completed => 1,
        _ when UsersQueued == 0 => 0,
        SyncPhase.ProvisioningGroups => 0.9,
        _ => 0.9 * Math.Min(1, (double)UsersDone / UsersQueued),
    };
}

/// <summary>The durable state of a run (a checkpoint), so a host killed mid-sync resumes the same run.</summary>
internal sealed record SyncRunState
{
    public required string RunId { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required bool FromScratch { get; init; }
    public SyncPhase Phase { get; init; }
    public int UsersQueued { get; init; }

    /// <summary>The users delta page the walk reads next (its message carries the same number; an older one is a duplicate).</summary>
    public int NextPage { get; init; }

    /// <summary>The nextLink of the last page read: where <see cref="NextPage"/> is.</summary>
    public string? NextLink { get; init; }

    /// <summary>
    /// Set once the walk has read its last page: how many pages it read. The pages after them are the fan-out's steps,
    /// each queueing one slice of the run's plan (<see cref="PlanSlices"/> in all).
    /// </summary>
    public int? WalkPages { get; init; }

    public int PlanSlices { get; init; }

    /// <summary>The walk read every user (from scratch, or Graph restarted an expired delta): active records it did not see are orphans.</summary>
    public bool FullRead { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }
    public bool TimedOut { get; init; }
}
