namespace EntraSnow.Prove.Scenarios;

/// <summary>
/// A scenario's figures. <see cref="Lost"/> and <see cref="Duplicated"/> come from comparing the emulators' final state
/// and ServiceNow's write counters with the changes made (<see cref="Rig.Reconciliation"/>).
/// </summary>
internal sealed record ScenarioResult
{
    public required string Scenario { get; init; }

    /// <summary>Changes made in Graph (or messages sent) during the scenario.</summary>
    public required int Events { get; init; }

    public required int Lost { get; init; }

    public required int Duplicated { get; init; }

    public required long DeadLettered { get; init; }

    /// <summary>From the end of the fault until EntraSnow worked again (see <see cref="RecoveryMeaning"/>); null if it did not.</summary>
    public TimeSpan? Recovery { get; init; }

    public string RecoveryMeaning { get; init; } = "";

    /// <summary>The most <see cref="Recovery"/> may be (kill -9: 10 s); null when the issue sets none.</summary>
    public TimeSpan? RecoveryTarget { get; init; }

    /// <summary>How long the scenario ran on the wall clock.</summary>
    public TimeSpan Wall { get; init; }

    /// <summary>Virtual time the scenario's clock was moved on by (an hour-long outage in seconds of wall time).</summary>
    public TimeSpan? VirtualTime { get; init; }

    public string Notes { get; init; } = "";

    /// <summary>Whether the scenario finished inside its patience (a stalled host is a failure even with nothing lost yet).</summary>
    public bool Settled { get; init; } = true;

    public bool MetTargets => Settled && Lost == 0 && Duplicated == 0 && (RecoveryTarget is null || Recovery <= RecoveryTarget);
}
