using System.Diagnostics;

namespace EntraSnow.LocalHost.Tests.Support;

/// <summary>
/// The local host as a separate OS process (the built EntraSnow.LocalHost.dll), so a test can kill it the hard way
/// (SIGKILL, no shutdown code runs) and check what survived.
/// </summary>
public sealed class LocalHostProcess : IAsyncDisposable
{
    private readonly Process _process;

    private LocalHostProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string BaseUrl { get; }

    public HttpClient Client { get; }

    /// <summary>Every line the process has written to its console so far (standard output and error).</summary>
    public IReadOnlyList<string> Output => [.. _output];

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    public static async Task<LocalHostProcess> StartAsync(string dataPath, IDictionary<string, string?>? settings = null, string command = "serve")
    {
        var baseUrl = $"http://127.0.0.1:{LocalHostHarness.FreePort()}";
        var dll = Path.Combine(AppContext.BaseDirectory, "EntraSnow.LocalHost.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add(command);
        // `serve` would otherwise take the fixed sandbox HTTPS port, which another test run on this machine may hold.
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>(), StringComparer.OrdinalIgnoreCase);
        all.TryAdd("LocalHost:SandboxHttpsUrl", $"https://127.0.0.1:{LocalHostHarness.FreePort()}");
        foreach (var arg in LocalHostHarness.Arguments(baseUrl, dataPath, all))
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the local host.");
        var host = new LocalHostProcess(process, baseUrl);
        process.OutputDataReceived += (_, e) => host.Record(e.Data);
        process.ErrorDataReceived += (_, e) => host.Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await host.WaitUntilHealthyAsync();
        return host;
    }

    private async Task WaitUntilHealthyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The local host exited with code {_process.ExitCode} before it was healthy.");
            }

            try
            {
                using var response = await Client.GetAsync("/api/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The local host did not become healthy within 60 s.");
    }

    /// <summary>SIGKILL: the process gets no chance to flush or shut down.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await KillAsync();
        _process.Dispose();
    }
}
