using System.Net;
using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Tests.Shared;

namespace EntraSnow.LocalHost.Tests.Hosting;

/// <summary>
/// In sandbox mode the local host serves the emulators over HTTPS too, with the certificate `sandbox cert` exports; a
/// client that trusts only that file reads them, as the Graph JavaScript client or pysnc would.
/// </summary>
public sealed class SandboxHttpsTests
{
    [Fact]
    public async Task A_client_trusting_only_the_certificate_sandbox_cert_exported_reads_both_emulators_over_HTTPS()
    {
        var https = $"https://127.0.0.1:{LocalHostHarness.FreePort()}";
        var settings = LocalHostHarness.IntakeOnly("a-client-state-of-enough-length");
        settings["LocalHost:SandboxHttpsUrl"] = https;
        await using var host = await LocalHostHarness.StartAsync(settings);
        var output = new StringWriter();

        var exit = await LocalHostCommandLine.RunAsync(["sandbox", "cert", $"--LocalHost:DataPath={host.DataPath}", $"--LocalHost:Url={host.BaseUrl}",
            $"--LocalHost:SandboxHttpsUrl={https}", "--Logging:LogLevel:Default=Warning"], output);

        Assert.Equal(0, exit);
        var pem = Path.Combine(host.DataPath, "sandbox", "sandbox-https.crt");
        Assert.True(File.Exists(pem));
        Assert.Contains(pem, output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"{https}/sandbox/graph", output.ToString(), StringComparison.Ordinal);
        using var client = CertificateTrust.TrustingOnly(pem);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{https}/sandbox/servicenow/api/now/table/sys_user?sysparm_limit=1");
        request.Headers.Authorization = new("Basic", Convert.ToBase64String("admin:sandbox"u8.ToArray()));
        using var serviceNow = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, serviceNow.StatusCode);
        using var health = await client.GetAsync($"{https}/api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        // Plain HTTP still answers as before.
        using var plain = await host.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public void Serve_listens_over_HTTPS_by_default_in_sandbox_mode_and_an_empty_setting_turns_it_off()
    {
        var data = LocalHostHarness.NewDataPath();
        try
        {
            var url = $"http://127.0.0.1:{LocalHostHarness.FreePort()}";
            using (var app = LocalHostApp.Build(LocalHostHarness.Arguments(url, data, null), SandboxHttps.ServeDefault))
            {
                Assert.Equal($"{url};{SandboxHttps.DefaultUrl}", app.Configuration["urls"]);
            }

            using (var off = LocalHostApp.Build(LocalHostHarness.Arguments(url, data, new Dictionary<string, string?> { [SandboxHttps.Setting] = "" }), SandboxHttps.ServeDefault))
            {
                Assert.Equal(url, off.Configuration["urls"]);
            }

            // Other commands and hosts built without serve's default take HTTPS only when it is configured.
            using var other = LocalHostApp.Build(LocalHostHarness.Arguments(url, data, null));
            Assert.Equal(url, other.Configuration["urls"]);
        }
        finally
        {
            LocalHostHarness.TryDelete(data);
        }
    }
}
