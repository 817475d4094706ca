namespace EntraSnow.Flows.InactiveSweep;

/// <summary>How a run is done: for real, or as a dry run that reads but writes nothing (no record, no checkpoint).</summary>
public sealed record SweepRunRequest
{
    public bool DryRun { get; init; }

    /// <summary>Called for each account that is (or, in a dry run, would be) raised.</summary>
    public Action<InactiveAccount>? OnRaised { get; init; }

    /// <summary>Called after each page of Graph results.</summary>
    public Action<SweepReport>? OnProgress { get; init; }
}

/// <summary>What a run did (or would do). Counts are of accounts; <see cref="Excluded"/> counts inactive-looking accounts left alone, by reason.</summary>
public sealed record SweepReport
{
    public required string RunId { get; init; }

    public required string Cycle { get; init; }

    public bool DryRun { get; init; }

    /// <summary>True when this run continued one that was cut off.</summary>
    public bool Resumed { get; init; }

    public int Pages { get; init; }

    /// <summary>Accounts Graph listed as candidates (signed in before the cutoff, or never signed in).</summary>
    public int Candidates { get; init; }

    public int Raised { get; init; }

    /// <summary>Inactive accounts that already have their review this cycle.</summary>
    public int AlreadyRaised { get; init; }

    public IReadOnlyDictionary<SweepVerdict, int> Excluded { get; init; } = new Dictionary<SweepVerdict, int>();

    /// <summary>Open reviews closed (or, in a dry run, that would be) because the account signed in again.</summary>
    public int Closed { get; init; }

    /// <summary>Accounts disabled (or, in a dry run, that would be) because their review was approved or unanswered past the grace period.</summary>
    public int Disabled { get; init; }

    /// <summary>Reviews due for disabling whose account is break-glass: closed without touching it.</summary>
    public int Refused { get; init; }

    /// <summary>Accounts Graph refused to disable (e.g. administrators the app may not manage): their reviews stay open.</summary>
    public int DisableFailed { get; init; }
}
