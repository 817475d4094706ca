using System.Diagnostics;
using System.Globalization;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Benchmarks.ServiceNow;

/// <summary>
/// Upserts users through the real connector into the ServiceNow emulator over loopback, in three rounds (create,
/// unchanged, one field changed), and reports ServiceNow calls per upsert, upserts/s and latency percentiles.
/// Targets, with warm reference caches: at most 2 calls for a changed record, 1 for an unchanged one.
/// </summary>
internal sealed class ServiceNowUpsertBenchmark : IBenchmark
{
    public string Name => "servicenow-upsert";

    public string Description => "calls per upsert, upserts/s and p50/p99 against the ServiceNow emulator";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--users", 2000), BenchmarkOption.Number("--concurrency", 16)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var users = arguments.Number("--users");
        var concurrency = arguments.Number("--concurrency");

        await using var emulator = await ServiceNowEmulatorServer.StartAsync(seed: true, cancellationToken: cancellationToken);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServiceNow:InstanceUrl"] = emulator.BaseUrl,
            ["ServiceNow:AuthMode"] = "OAuth",
            ["ServiceNow:ClientId"] = emulator.Options.ClientId,
            ["ServiceNow:ClientSecret"] = emulator.Options.ClientSecret,
            ["ServiceNow:MaxConcurrency"] = concurrency.ToString(CultureInfo.InvariantCulture),
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddServiceNowConnector(configuration).BuildServiceProvider();
        var table = services.GetRequiredService<IServiceNowTable>();
        var references = services.GetRequiredService<IServiceNowReferences>();
        var calls = services.GetRequiredService<ServiceNowCallCounter>();

        // Warm the token and the reference cache, as a running host would have them.
        foreach (var department in ServiceNowSeed.Departments)
        {
            await references.RequireAsync("cmn_department", "name", department, cancellationToken);
        }

        Console.WriteLine($"servicenow-upsert: {users} users, concurrency {concurrency}, emulator at {emulator.BaseUrl}");
        Console.WriteLine($"{"round",-10} {"upserts/s",10} {"calls/upsert",13} {"writes",7} {"p50 ms",8} {"p99 ms",8}  outcome");
        var ok = true;
        ok &= await RoundAsync("create", "Engineer", UpsertOutcome.Created, 2.0);
        ok &= await RoundAsync("unchanged", "Engineer", UpsertOutcome.Unchanged, 1.0);
        ok &= await RoundAsync("changed", "Senior Engineer", UpsertOutcome.Updated, 2.0);
        Console.WriteLine(ok ? "targets met: changed <= 2 calls, unchanged <= 1 call per upsert" : "TARGETS MISSED");
        return ok ? 0 : 1;

        async Task<bool> RoundAsync(string round, string title, UpsertOutcome expected, double target)
        {
            calls.Reset();
            emulator.Counters.Reset();
            var latencies = new double[users];
            var outcomes = new UpsertOutcome[users];
            var clock = Stopwatch.StartNew();
            await Parallel.ForAsync(0, users, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var started = Stopwatch.GetTimestamp();
                var department = await references.RequireAsync("cmn_department", "name", ServiceNowSeed.Departments[i % ServiceNowSeed.Departments.Count], ct);
                var result = await table.UpsertAsync("sys_user", "user_name", $"bench{i:D6}@contoso.example", new Dictionary<string, string?>
                {
                    ["first_name"] = "Bench",
                    ["last_name"] = $"User {i}",
                    ["email"] = $"bench{i:D6}@contoso.example",
                    ["title"] = title,
                    ["department"] = department,
                    ["active"] = "true",
                }, ct);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                outcomes[i] = result.Outcome;
            });
            clock.Stop();

            Array.Sort(latencies);
            var perUpsert = (double)calls.Total / users;
            var allExpected = outcomes.All(o => o == expected);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{round,-10} {users / clock.Elapsed.TotalSeconds,10:F0} {perUpsert,13:F2} {emulator.Counters.Writes(),7} {Percentile(latencies, 0.50),8:F2} {Percentile(latencies, 0.99),8:F2}  {(allExpected ? expected.ToString() : "MIXED")}"));
            return allExpected && perUpsert <= target;
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
