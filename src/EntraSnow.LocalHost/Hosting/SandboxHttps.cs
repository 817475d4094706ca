using EntraSnow.Sandbox.Https;
using Microsoft.Extensions.Configuration.Memory;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>
/// In sandbox mode the local host also listens over HTTPS (<c>LocalHost:SandboxHttpsUrl</c>), with the development
/// certificate kept in the data folder, because real clients of the emulators (the Microsoft Graph JavaScript client,
/// ServiceNow's pysnc) refuse plain HTTP. <c>serve</c> turns it on by default; other commands and test hosts only when
/// the setting is given, so two hosts never fight over one port.
/// </summary>
internal static class SandboxHttps
{
    public const string DefaultUrl = "https://127.0.0.1:7443";

    public const string Setting = $"{LocalHostOptions.Section}:{nameof(LocalHostOptions.SandboxHttpsUrl)}";

    /// <summary>For <c>serve</c>: the default HTTPS address, below every other source, so any configured value (an empty one turns HTTPS off) wins.</summary>
    public static void ServeDefault(WebApplicationBuilder builder) =>
        ((IConfigurationBuilder)builder.Configuration).Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new KeyValuePair<string, string?>(Setting, DefaultUrl)],
        });

    public static void Listen(WebApplicationBuilder builder, SandboxMode sandbox, LocalHostOptions options)
    {
        if (!sandbox.Any || string.IsNullOrWhiteSpace(options.SandboxHttpsUrl))
        {
            builder.WebHost.UseUrls(options.Url);
            return;
        }

        var certificate = SandboxCertificate.LoadOrCreate(options.SandboxPath);
        builder.WebHost.UseUrls(options.Url, options.SandboxHttpsUrl);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
    }
}
