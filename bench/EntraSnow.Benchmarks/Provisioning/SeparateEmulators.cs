using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using EntraSnow.Benchmarks.Groups;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Benchmarks.Provisioning;

/// <summary>
/// The Graph and ServiceNow emulators, seeded, in a child process of this benchmark program (<c>emulators</c>), so the
/// peak RSS measured in the benchmark's own process is the sync's, not the emulators' with their copy of the tenant.
/// </summary>
internal sealed class SeparateEmulators : IAsyncDisposable
{
    private const string Marker = "EMULATORS ";

    private readonly Process _child;

    private SeparateEmulators(Process child, Dictionary<string, string?> settings, int users, int groups, int memberships)
    {
        _child = child;
        Settings = settings;
        (Users, Groups, Memberships) = (users, groups, memberships);
    }

    /// <summary>The <c>Graph:*</c> and <c>ServiceNow:*</c> settings that point the connectors at the child's emulators.</summary>
    public Dictionary<string, string?> Settings { get; }

    public int Users { get; }

    public int Groups { get; }

    public int Memberships { get; }

    /// <summary>The child's peak resident memory so far (VmHWM), or null off Linux.</summary>
    public long? PeakRss => ReadPeakRss(_child.Id);

    /// <param name="groupsPerUser">Groups each user joins (the seed's spread).</param>
    /// <param name="mirrored">ServiceNow already holds what EntraSnow would write for the directory (<see cref="MirroredTenant"/>).</param>
    public static async Task<SeparateEmulators> StartAsync(int users, int groups, int latencyMs, CancellationToken cancellationToken, int groupsPerUser = 2,
        bool mirrored = false)
    {
        var program = Environment.ProcessPath!;
        var start = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(program) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        string[] args = [EmulatorsCommand.CommandName, "--users", $"{users}", "--groups", $"{groups}", "--latency-ms", $"{latencyMs}", "--groups-per-user", $"{groupsPerUser}",
            .. mirrored ? [EmulatorsCommand.Mirrored] : Array.Empty<string>()];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var child = Process.Start(start) ?? throw new InvalidOperationException("The emulators' process did not start.");
        while (await child.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith(Marker, StringComparison.Ordinal))
            {
                var ready = JsonSerializer.Deserialize<Ready>(line[Marker.Length..])!;
                return new SeparateEmulators(child, ready.Settings, ready.Users, ready.Groups, ready.Memberships);
            }
        }

        throw new InvalidOperationException($"The emulators' process ended ({child.ExitCode}) before it was ready.");
    }

    public async ValueTask DisposeAsync()
    {
        // Closing its standard input tells the child to stop; it is killed if it does not.
        _child.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _child.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _child.Kill(entireProcessTree: true);
        }

        _child.Dispose();
    }

    internal static long? ReadPeakRss(int processId)
    {
        var status = $"/proc/{processId}/status";
        if (!File.Exists(status))
        {
            return null;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private sealed record Ready(Dictionary<string, string?> Settings, int Users, int Groups, int Memberships);

    /// <summary>The child's side: serves both emulators, seeded, until its standard input closes.</summary>
    internal sealed class EmulatorsCommand : IBenchmark
    {
        public const string CommandName = "emulators";

        public const string Mirrored = "--mirrored";

        public string Name => CommandName;

        public string Description => "(for the fullsync and group-delta-memory benchmarks) seeded Graph and ServiceNow emulators until standard input closes";

        public IReadOnlyList<BenchmarkOption> Options { get; } =
            [
                BenchmarkOption.Number("--users", 10_000), BenchmarkOption.Number("--groups", 500, minimum: 0), BenchmarkOption.Number("--groups-per-user", 2, minimum: 0),
                BenchmarkOption.Number("--latency-ms", 0, minimum: 0), BenchmarkOption.Switch(Mirrored),
            ];

        public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
        {
            await using var graph = await GraphEmulatorServer.StartAsync(cancellationToken: cancellationToken);
            await using var serviceNow = await ServiceNowEmulatorServer.StartAsync(o => o.LatencyMs = arguments.Number("--latency-ms"),
                seed: true, cancellationToken: cancellationToken);
            var seeded = graph.Seed(new GraphSeedSpec
            {
                Users = arguments.Number("--users"),
                Groups = arguments.Number("--groups"),
                GroupsPerUser = arguments.Number("--groups-per-user"),
                RiskDetections = 0,
            });
            if (arguments.Switch(Mirrored))
            {
                MirroredTenant.Write(graph.Emulator, serviceNow.Store, seeded);
            }

            var settings = new Dictionary<string, string?>(graph.ConnectorSettings);
            foreach (var (key, value) in serviceNow.ConnectorSettings)
            {
                settings[key] = value;
            }

            Console.WriteLine(Marker + JsonSerializer.Serialize(new Ready(settings, seeded.UserIds.Count, seeded.GroupIds.Count, seeded.Memberships)));
            await Console.In.ReadToEndAsync(cancellationToken);
            return 0;
        }
    }
}
