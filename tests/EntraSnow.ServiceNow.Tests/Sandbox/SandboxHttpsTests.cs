using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EntraSnow.Sandbox;
using EntraSnow.Sandbox.Https;
using EntraSnow.Tests.Shared;

namespace EntraSnow.ServiceNow.Tests.Sandbox;

/// <summary>
/// The standalone sandbox over HTTPS: `cert` exports the development certificate, a client that trusts only that file
/// reads the emulators, and `--urls` is honoured before or after the command.
/// </summary>
public sealed class SandboxHttpsTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "entrasnow-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_client_trusting_only_the_exported_certificate_reads_the_emulators_over_HTTPS_whichever_side_of_the_command_urls_is(bool urlsFirst)
    {
        var url = $"https://127.0.0.1:{FreePort()}";
        string[] args = urlsFirst
            ? ["--urls", url, "serve", $"--Sandbox:DataPath={_data}"]
            : ["serve", $"--Sandbox:DataPath={_data}", "--urls", url];
        var pem = await ExportCertificateAsync();
        var commandLine = SandboxCommandLine.Parse(args);
        Assert.Equal("serve", commandLine.Command);
        Assert.Equal(url, commandLine.Option("--urls"));

        await using var app = commandLine.BuildServer();
        await app.StartAsync();
        using var client = CertificateTrust.TrustingOnly(pem);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{url}/sandbox/servicenow/api/now/table/sys_user?sysparm_limit=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("admin:sandbox")));
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"result\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(new[] { url }, app.Urls);
        await app.StopAsync();
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_certificate_is_refused()
    {
        var url = $"https://127.0.0.1:{FreePort()}";
        await using var app = SandboxCommandLine.Parse(["--urls", url, $"--Sandbox:DataPath={_data}"]).BuildServer();
        await app.StartAsync();
        using var untrusting = new HttpClient();

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync($"{url}/sandbox/servicenow/api/now/table/sys_user"));

        Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        await app.StopAsync();
    }

    [Fact]
    public async Task The_cert_command_writes_a_certificate_for_localhost_and_127_0_0_1_that_stays_the_same_across_restarts()
    {
        var first = await ExportCertificateAsync();
        var thumbprint = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(first)).Thumbprint;
        var output = new StringWriter();
        var again = Path.Combine(_data, "again.crt");

        Assert.Equal(0, await SandboxCommandLine.Parse(["cert", $"--Sandbox:DataPath={_data}", "--out", again]).RunAsync(output));

        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(again));
        Assert.Equal(thumbprint, certificate.Thumbprint);
        Assert.DoesNotContain("PRIVATE KEY", await File.ReadAllTextAsync(again), StringComparison.Ordinal);
        var names = Assert.Single(certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Contains("localhost", names.EnumerateDnsNames());
        Assert.Contains(IPAddress.Loopback, names.EnumerateIPAddresses());
        Assert.True(certificate.NotAfter > DateTime.Now.AddDays(300));
        Assert.Contains(again, output.ToString(), StringComparison.Ordinal);
        Assert.Contains("NODE_EXTRA_CA_CERTS", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("https://127.0.0.1:7073", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Options_and_their_values_never_pass_for_the_command()
    {
        var seed = SandboxCommandLine.Parse(["--urls", "http://127.0.0.1:9", "seed", "--users", "3"]);
        Assert.Equal("seed", seed.Command);
        Assert.Equal("3", seed.Option("--users"));
        Assert.Equal("http://127.0.0.1:9", seed.Option("--urls"));

        var defaulted = SandboxCommandLine.Parse(["--urls=http://127.0.0.1:9"]);
        Assert.Equal("serve", defaulted.Command);
        Assert.Equal("http://127.0.0.1:9", defaulted.Option("--urls"));
    }

    private async Task<string> ExportCertificateAsync()
    {
        var pem = Path.Combine(_data, "exported.crt");
        Assert.Equal(0, await SandboxCommandLine.Parse(["cert", $"--Sandbox:DataPath={_data}", "--out", pem]).RunAsync(new StringWriter()));
        return pem;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
