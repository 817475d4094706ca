using EntraSnow.Prove.Rig;

namespace EntraSnow.Prove.Scenarios;

/// <summary>How large a run is: <c>--short</c> for CI (well under 90 s on two cores), <c>--full</c> for the figures.</summary>
internal sealed record ProofScale(string Name, int BurstChanges, int BurstUsers, int SyncUsers, int FaultChanges, int FaultUsers, int PoisonUsers)
{
    public static ProofScale Short { get; } = new("short", BurstChanges: 400, BurstUsers: 100, SyncUsers: 200, FaultChanges: 100, FaultUsers: 50, PoisonUsers: 5);

    public static ProofScale Full { get; } = new("full", BurstChanges: 2_000, BurstUsers: 500, SyncUsers: 2_000, FaultChanges: 1_000, FaultUsers: 250, PoisonUsers: 20);
}

/// <summary>What every scenario of one run shares: its scale, its secrets, its folder (scanned for secrets at the end) and a progress writer.</summary>
internal sealed record ProofContext(ProofScale Scale, RunSecrets Secrets, string Root, TextWriter Progress)
{
    /// <summary>A fresh folder for one scenario, under the run's folder.</summary>
    public string FolderFor(string scenario)
    {
        var folder = Path.Combine(Root, scenario);
        Directory.CreateDirectory(folder);
        return folder;
    }

    public void Say(string scenario, string line) => Progress.WriteLine($"  [{scenario}] {line}");
}
