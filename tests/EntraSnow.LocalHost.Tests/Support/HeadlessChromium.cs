using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace EntraSnow.LocalHost.Tests.Support;

/// <summary>
/// Debian's Chromium, headless, driven through Debian's chromedriver. A machine without them gets them from apt the first
/// time (as root, which CI and the developers' machines are; under a machine-wide file lock, so parallel runs install
/// once), as the Azurite tests get Azurite from npm: the browser test never skips. Selenium is always given both paths,
/// so it never looks for (or downloads) a driver of its own.
/// </summary>
public static class HeadlessChromium
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    public static async Task<ChromeDriver> StartAsync()
    {
        await EnsureInstalledAsync();
        var profile = Path.Combine(Path.GetTempPath(), "entrasnow-chromium", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1600", $"--user-data-dir={profile}");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(120));
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
