namespace EntraSnow.Benchmarks;

/// <summary>A named benchmark. Each prints its figures (ratios, p50/p95/p99 from one run) and returns a process exit code.</summary>
internal interface IBenchmark
{
    string Name { get; }

    string Description { get; }

    Task<int> RunAsync(string[] args, CancellationToken cancellationToken);
}
