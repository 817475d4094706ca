using System.Diagnostics;
using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Sandbox.Graph;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Benchmarks.Graph;

/// <summary>
/// Graph calls per user for a full users delta against the emulator over loopback HTTP, through the real connector
/// (SDK, auth, throttling handler). The target is one call per delta page, not one per user; a follow-up delta after
/// a handful of changes shows what steady state costs.
/// </summary>
internal sealed class GraphDeltaBenchmark : IBenchmark
{
    public string Name => "graph-delta";

    public string Description => "Graph calls per user for a full users delta of N seeded users (default 10,000) against the emulator";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--users", 10_000), BenchmarkOption.Number("--changes", 25, minimum: 0)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var users = arguments.Number("--users");
        var changes = arguments.Number("--changes");

        await using var server = await GraphEmulatorServer.StartAsync(cancellationToken: cancellationToken);
        var seedTimer = Stopwatch.StartNew();
        var seeded = server.Seed(new GraphSeedSpec { Users = users, Groups = 0, RiskDetections = 0 });
        seedTimer.Stop();

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(server.ConnectorSettings).Build();
        await using var services = new ServiceCollection().AddLogging().AddGraphConnector(configuration).BuildServiceProvider();
        var directory = services.GetRequiredService<IDirectory>();
        var calls = services.GetRequiredService<GraphCallCounter>();

        var timer = Stopwatch.StartNew();
        var pages = 0;
        var seen = 0;
        string? deltaLink = null;
        await foreach (var page in directory.GetUsersDeltaAsync(null, cancellationToken))
        {
            pages++;
            seen += page.Items.Count;
            deltaLink = page.DeltaLink ?? deltaLink;
        }

        timer.Stop();
        var fullCalls = calls.Requests;

        for (var i = 0; i < changes && i < seeded.UserIds.Count; i++)
        {
            await server.Emulator.RenameUserAsync(seeded.UserIds[i * (seeded.UserIds.Count / Math.Max(changes, 1))], $"Renamed {i}", cancellationToken);
        }

        calls.Reset();
        var changed = 0;
        await foreach (var page in directory.GetUsersDeltaAsync(deltaLink, cancellationToken))
        {
            changed += page.Items.Count;
        }

        var incrementalCalls = calls.Requests;

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine("graph-delta: full users delta through the connector against the Graph emulator (loopback HTTP)");
        Console.WriteLine(string.Create(inv, $"  seeded users            {users,10:N0}   (seed took {seedTimer.Elapsed.TotalMilliseconds:N0} ms)"));
        Console.WriteLine(string.Create(inv, $"  users returned          {seen,10:N0}"));
        Console.WriteLine(string.Create(inv, $"  delta pages             {pages,10:N0}   (emulator page size {server.Emulator.Options.DeltaPageSize}, Graph's cap)"));
        Console.WriteLine(string.Create(inv, $"  Graph calls             {fullCalls,10:N0}"));
        Console.WriteLine(string.Create(inv, $"  Graph calls per user    {(double)fullCalls / Math.Max(seen, 1),10:0.0000}   (target: pages/users = {(double)pages / Math.Max(seen, 1):0.0000})"));
        Console.WriteLine(string.Create(inv, $"  duration                {timer.Elapsed.TotalMilliseconds,10:N0} ms  ({seen / timer.Elapsed.TotalSeconds:N0} users/s)"));
        Console.WriteLine(string.Create(inv, $"  incremental delta       {incrementalCalls,10:N0} call(s) for {changed} changed user(s)"));

        var ok = seen == users && fullCalls == pages;
        Console.WriteLine(ok ? "  result                  calls == pages: target met" : "  result                  target missed");
        return ok ? 0 : 1;
    }
}
