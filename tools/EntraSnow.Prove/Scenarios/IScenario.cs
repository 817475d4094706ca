namespace EntraSnow.Prove.Scenarios;

/// <summary>One fault-injection scenario: sets up its own emulators and local host under the run's folder, and reports figures.</summary>
internal interface IScenario
{
    string Name { get; }

    /// <summary>One line: the fault, and what is expected of EntraSnow.</summary>
    string What { get; }

    Task<ScenarioResult> RunAsync(ProofContext context, CancellationToken cancellationToken);
}
