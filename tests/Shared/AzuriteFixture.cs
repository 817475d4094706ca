using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace EntraSnow.Tests.Shared;

/// <summary>
/// Azurite's table service on a free loopback port, in memory, for the duration of the test class. Installs
/// azurite from npm into &lt;repo&gt;/.tools/azurite the first time (under a file lock, so parallel runs install once).
/// One copy, compiled into each test project that needs Table storage (the project sets the RepoRoot assembly metadata).
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private const string AzuriteVersion = "3.35.0";

    // Azurite's published development account (not a secret: it is the same for every Azurite).
    private const string DevAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private Process? _process;

    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var executable = await EnsureInstalledAsync();
        var port = FreePort();
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "--tableHost", "127.0.0.1", "--tablePort", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry", "--silent" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start azurite-table.");

        // Ready when it says so: read its output rather than guess a delay.
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("successfully started", StringComparison.OrdinalIgnoreCase) == true)
            {
                ready.TrySetResult();
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                Console.Error.WriteLine("azurite: " + e.Data);
            }
        };
        _process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("azurite-table exited before it was ready."));
        _process.EnableRaisingEvents = true;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));

        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevAccountKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        return Task.CompletedTask;
    }

    private static async Task<string> EnsureInstalledAsync()
    {
        var tools = Path.Combine(RepoRoot(), ".tools", "azurite");
        var executable = Path.Combine(tools, "node_modules", ".bin", "azurite-table");
        if (File.Exists(executable))
        {
            return executable;
        }

        Directory.CreateDirectory(tools);
        using var gate = await LockAsync(Path.Combine(tools, "install.lock"));
        if (!File.Exists(executable))
        {
            var npm = new ProcessStartInfo("npm")
            {
                ArgumentList = { "install", "--prefix", tools, $"azurite@{AzuriteVersion}", "--no-audit", "--no-fund" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var install = Process.Start(npm) ?? throw new InvalidOperationException("npm is needed to install Azurite for these tests.");
            var stderr = install.StandardError.ReadToEndAsync();
            await install.StandardOutput.ReadToEndAsync();
            await install.WaitForExitAsync();
            if (install.ExitCode != 0 || !File.Exists(executable))
            {
                throw new InvalidOperationException($"npm install azurite@{AzuriteVersion} failed: {await stderr}");
            }
        }

        return executable;
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 600)
            {
                // Another test run holds the lock while it installs.
                await Task.Delay(500);
            }
        }
    }

    private static string RepoRoot() =>
        typeof(AzuriteFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "RepoRoot").Value!;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
