using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace EntraSnow.LocalHost.Tests.Support;

/// <summary>
/// One session of Debian's Chromium, headless, driven through Debian's chromedriver. A machine without them gets them
/// from apt the first time (as root, which CI and the developers' machines are; under a machine-wide file lock, so
/// parallel runs install once), as the Azurite tests get Azurite from npm: the browser test never skips. Selenium is
/// always given both paths, so it never looks for (or downloads) a driver of its own.
/// <para>
/// Start-up is made to survive a loaded machine and other test runs beside this one: each session has its own folder
/// (profile, chromedriver's log) deleted when it ends; chromedriver talks to Chromium over a pipe
/// (<c>--remote-debugging-pipe</c>), so there is no DevTools port to choose or collide on and no
/// <c>DevToolsActivePort</c> file to wait for (CI once failed on "DevToolsActivePort file doesn't exist"). A session
/// that still cannot be created is tried once more in a fresh folder, after logging why with the end of chromedriver's
/// and Chromium's own logs; a second failure fails the test with both reasons.
/// </para>
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private static readonly string SessionsFolder = Path.Combine(Path.GetTempPath(), "entrasnow-chromium");

    private readonly string _folder;

    private HeadlessChromium(ChromeDriver driver, string folder)
    {
        Driver = driver;
        _folder = folder;
    }

    public ChromeDriver Driver { get; }

    /// <param name="log">Where to say why a first start failed (the test's output).</param>
    public static async Task<HeadlessChromium> StartAsync(Action<string> log)
    {
        await EnsureInstalledAsync();
        try
        {
            return Start();
        }
        catch (ChromiumDidNotStartException first)
        {
            log($"Chromium did not start; trying once more in a fresh profile. Why: {first.Message}");
            try
            {
                return Start();
            }
            catch (ChromiumDidNotStartException second)
            {
                throw new ChromiumDidNotStartException($"Chromium did not start twice.\nFirst: {first.Message}\nSecond: {second.Message}", second);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            Driver.Dispose(); // quits Chromium and stops chromedriver
        }
        finally
        {
            TryDelete(_folder);
        }
    }

    private static HeadlessChromium Start()
    {
        var folder = Path.Combine(SessionsFolder, Guid.NewGuid().ToString("N"));
        var profile = Path.Combine(folder, "profile");
        Directory.CreateDirectory(profile);
        var driverLog = Path.Combine(folder, "chromedriver.log");

        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments(
            "--headless=new", "--no-sandbox", "--remote-debugging-pipe", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            "--disable-crash-reporter", "--window-size=1400,1600", $"--user-data-dir={profile}");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        service.LogPath = driverLog; // at INFO, chromedriver's default: the launch line and why a start failed
        try
        {
            return new HeadlessChromium(new ChromeDriver(service, options, TimeSpan.FromSeconds(120)), folder);
        }
        catch (Exception ex) when (ex is WebDriverException or InvalidOperationException)
        {
            // Selenium reports "session not created" as an InvalidOperationException, a driver that never answered as a
            // WebDriverException. The logs say why (the launch line, Chromium's exit, a crash).
            var reason = $"{ex.GetType().Name}: {ex.Message}\nchromedriver's log ends:\n{Tail(driverLog)}\nChromium's log ends:\n{Tail(Path.Combine(profile, "chrome_debug.log"))}";
            service.Dispose();
            TryDelete(folder);
            throw new ChromiumDidNotStartException(reason, ex);
        }
    }

    private static string Tail(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            return text.Length > 3000 ? text[^3000..] : text;
        }
        catch (IOException)
        {
            return "(none)";
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A Chromium helper still closing a file: the folder is in the temp folder, the system cleans it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task EnsureInstalledAsync()
    {
        if (Installed())
        {
            return;
        }

        using var gate = await LockAsync(Path.Combine(Path.GetTempPath(), "entrasnow-chromium-install.lock"));
        if (Installed())
        {
            return;
        }

        // A fresh machine's package lists may be missing or old: update them once if the first try fails.
        var first = await AptGetAsync("install", "-y", "chromium", "chromium-driver");
        if (first.ExitCode != 0 || !Installed())
        {
            var update = await AptGetAsync("update");
            var second = await AptGetAsync("install", "-y", "chromium", "chromium-driver");
            if (second.ExitCode != 0 || !Installed())
            {
                throw new InvalidOperationException(
                    $"The status page's browser test needs {BrowserPath} and {DriverPath} (Debian's chromium and chromium-driver); " +
                    $"installing them failed (run as root, or `apt-get install -y chromium chromium-driver` first):\n{update.Output}\n{second.Output}");
            }
        }
    }

    private static bool Installed() => File.Exists(BrowserPath) && File.Exists(DriverPath);

    private static async Task<(int ExitCode, string Output)> AptGetAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("apt-get")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment = { ["DEBIAN_FRONTEND"] = "noninteractive" },
        };
        // Another apt run on the machine (another test run, an unattended upgrade) is waited for, not failed on.
        start.ArgumentList.Add("-o");
        start.ArgumentList.Add("DPkg::Lock::Timeout=600");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("apt-get could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout + await stderr;
        return (process.ExitCode, output.Length > 4000 ? output[^4000..] : output);
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 1200)
            {
                // Another test run holds the lock while it installs.
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Waits for what the page shows, checking every 100 ms: the page refreshes itself every 2 s.</summary>
    public static void WaitUntil(IWebDriver driver, Func<IWebDriver, bool> condition, string what, int seconds = 30)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (condition(driver))
                {
                    return;
                }
            }
            catch (WebDriverException) when (deadline.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                // The element was redrawn between finding and reading it (StaleElementReference, NoSuchElement): look again.
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                Assert.Fail($"Timed out after {seconds} s waiting for the status page to show: {what}");
            }

            Thread.Sleep(100);
        }
    }
}

/// <summary>Chromium or its driver did not come up; the message carries their logs.</summary>
public sealed class ChromiumDidNotStartException(string message, Exception inner) : Exception(message, inner);
