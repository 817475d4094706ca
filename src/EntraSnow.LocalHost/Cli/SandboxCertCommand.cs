using EntraSnow.LocalHost.Hosting;
using EntraSnow.Sandbox.Https;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// <c>sandbox cert [--out PATH]</c>: writes the emulators' HTTPS development certificate (made in the data folder if it is
/// not there yet) as PEM and says how to make a client trust it.
/// </summary>
internal static class SandboxCertCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        if (!args.Contains("cert"))
        {
            await Console.Error.WriteLineAsync("usage: dotnet run --project src/EntraSnow.LocalHost -- sandbox cert [--out PATH]");
            return 2;
        }

        var outIndex = Array.IndexOf(args, "--out");
        var outPath = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : null;
        await using var scope = await CommandScope.OpenAsync([.. args.Where((a, i) => a != "cert" && (outIndex < 0 || (i != outIndex && i != outIndex + 1)))]);
        var options = scope.App.Services.GetRequiredService<IOptions<LocalHostOptions>>().Value;
        var certificate = SandboxCertificate.LoadOrCreate(options.SandboxPath);
        var pem = SandboxCertificate.ExportPem(certificate, outPath ?? Path.Combine(options.SandboxPath, SandboxCertificate.PemFileName));
        var https = string.IsNullOrWhiteSpace(options.SandboxHttpsUrl) ? SandboxHttps.DefaultUrl : options.SandboxHttpsUrl;
        await output.WriteLineAsync(SandboxCertificate.TrustInstructions(pem, certificate,
            [$"{https.TrimEnd('/')}{SandboxMode.GraphPrefix}", $"{https.TrimEnd('/')}{SandboxMode.ServiceNowPrefix}"]));
        return 0;
    }
}
