using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// The built local host (EntraSnow.LocalHost.dll, next to this tool) as a child process, configured through environment
/// variables as an operator would, its output written to a log file; <see cref="KillAsync"/> is a SIGKILL.
/// </summary>
internal sealed class ChildLocalHost : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TextWriter _log;

    private ChildLocalHost(Process process, TextWriter log, string baseUrl)
    {
        _process = process;
        _log = log;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string BaseUrl { get; }

    public HttpClient Client { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public static string FreeLoopbackUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
    }

    /// <summary>Starts <c>EntraSnow.LocalHost.dll {command}</c> (<c>serve</c>, or <c>sync</c>, which serves too) in <paramref name="workingFolder"/>; returns once it is healthy.</summary>
    public static async Task<ChildLocalHost> StartAsync(IReadOnlyDictionary<string, string?> settings, string workingFolder, string logPath,
        string command = "serve", TimeSpan? healthyWithin = null)
    {
        var baseUrl = settings["LocalHost:Url"] ?? throw new ArgumentException("LocalHost:Url is required.", nameof(settings));
        var info = StartInfo(settings, workingFolder, [command]);
        var log = TextWriter.Synchronized(new StreamWriter(logPath, append: true) { AutoFlush = true });
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the local host.");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var host = new ChildLocalHost(process, log, baseUrl);
        if (!await Converge.UntilAsync(async () => host.HasExited || await HostHealth.ReadAsync(host.Client) is not null, healthyWithin ?? TimeSpan.FromSeconds(60)))
        {
            await host.DisposeAsync();
            throw new TimeoutException($"The local host did not answer /api/health at {baseUrl}; see {logPath}.");
        }

        if (host.HasExited)
        {
            throw new InvalidOperationException($"The local host exited with code {process.ExitCode} at start; see {logPath}.");
        }

        return host;
    }

    /// <summary><c>dotnet EntraSnow.LocalHost.dll {command}</c>, output redirected, configured through environment variables only.</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string?> settings, string workingFolder, IEnumerable<string> command)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // No appsettings.json from wherever the tool was started: the settings are the whole configuration.
            WorkingDirectory = workingFolder,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "EntraSnow.LocalHost.dll"));
        foreach (var word in command)
        {
            info.ArgumentList.Add(word);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return info;
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await KillAsync();
        // The output handlers finish with the process; only then is the log complete.
        _process.WaitForExit();
        _process.Dispose();
        await _log.DisposeAsync();
    }

    private static void Write(TextWriter log, string? line)
    {
        if (line is not null)
        {
            log.WriteLine(line);
        }
    }
}
