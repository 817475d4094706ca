namespace EntraSnow.Benchmarks;

/// <summary>A named benchmark. Each prints its figures (ratios, p50/p95/p99 from one run) and returns a process exit code.</summary>
internal interface IBenchmark
{
    string Name { get; }

    string Description { get; }

    /// <summary>The options it takes; the command line is read against them before the run starts.</summary>
    IReadOnlyList<BenchmarkOption> Options { get; }

    Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken);
}
