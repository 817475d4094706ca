using System.Globalization;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.Https;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Sandbox;

/// <summary>
/// The sandbox's own command line: one command (<c>serve</c>, the default; <c>seed</c>; <c>cert</c>) anywhere among the
/// options. An option is <c>--name value</c> or <c>--name=value</c>, so <c>--urls https://127.0.0.1:8443 serve</c> and
/// <c>serve --urls https://127.0.0.1:8443</c> mean the same: the value after an option is never taken for the command.
/// </summary>
public sealed record SandboxCommandLine(string Command, string[] Options)
{
    public const string DefaultUrls = "http://127.0.0.1:7072;https://127.0.0.1:7073";

    public const string Usage = """
        usage: dotnet run --project src/EntraSnow.Sandbox -- [command] [--urls URLS] [--Sandbox:DataPath=PATH]

        commands:
          serve                          both emulators on http://127.0.0.1:7072 and https://127.0.0.1:7073 (the default)
          seed [--users N] [--groups N]  seed Graph users, groups, sign-in activity and risk detections, and ServiceNow
                                         reference data
          cert [--out PATH]              write the HTTPS development certificate as PEM and say how to trust it
        """;

    public static SandboxCommandLine Parse(string[] args)
    {
        string? command = null;
        var options = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.StartsWith('-'))
            {
                options.Add(arg);
                if (!arg.Contains('=') && i + 1 < args.Length && !args[i + 1].StartsWith('-'))
                {
                    options.Add(args[++i]);
                }
            }
            else if (command is null)
            {
                command = arg;
            }
            else
            {
                options.Add(arg);
            }
        }

        return new SandboxCommandLine(command ?? "serve", [.. options]);
    }

    /// <summary>The value of <c>--name value</c> or <c>--name=value</c>; null when absent.</summary>
    public string? Option(string name)
    {
        for (var i = 0; i < Options.Length; i++)
        {
            if (Options[i] == name && i + 1 < Options.Length)
            {
                return Options[i + 1];
            }

            if (Options[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return Options[i][(name.Length + 1)..];
            }
        }

        return null;
    }

    /// <summary>
    /// Both emulators in one web application, under the prefixes the local host uses, listening on <c>--urls</c>
    /// (default <see cref="DefaultUrls"/>); HTTPS with the development certificate of the data folder.
    /// </summary>
    public WebApplication BuildServer()
    {
        var builder = WebApplication.CreateBuilder(Options);
        var dataPath = DataPath(builder.Configuration);
        Directory.CreateDirectory(dataPath);
        var urls = Urls(builder.Configuration);
        builder.WebHost.UseUrls(urls);
        if (urls.Any(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            var certificate = SandboxCertificate.LoadOrCreate(dataPath);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
        }

        builder.Services.AddGraphEmulator(o => o.DatabasePath = Path.Combine(dataPath, "graph.db"));
        builder.Services.AddServiceNowEmulator(o => o.DatabasePath = Path.Combine(dataPath, "servicenow.db"));
        var app = builder.Build();
        app.MapGraphEmulator("/sandbox/graph");
        app.MapServiceNowEmulator("/sandbox/servicenow");
        return app;
    }

    public async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken = default)
    {
        switch (Command)
        {
            case "serve":
                await using (var app = BuildServer())
                {
                    await app.RunAsync(cancellationToken);
                }

                return 0;
            case "seed":
                await using (var app = BuildServer())
                {
                    var graph = app.Services.GetRequiredService<GraphEmulator>().Seed(new GraphSeedSpec
                    {
                        Users = IntOption("--users", 100),
                        Groups = IntOption("--groups", 10),
                    });
                    await output.WriteLineAsync($"Graph: {graph.UserIds.Count} users, {graph.GroupIds.Count} groups, {graph.Memberships} memberships, {graph.RiskDetections} risk detections");
                    var serviceNow = ServiceNowSeed.SeedReferenceData(app.Services.GetRequiredService<ServiceNowEmulatorStore>());
                    await output.WriteLineAsync($"ServiceNow: {serviceNow.Departments} departments, {serviceNow.Locations} locations, {serviceNow.Groups} groups");
                }

                return 0;
            case "cert":
                var configuration = new ConfigurationBuilder().AddCommandLine(Options).Build();
                var dataPath = DataPath(configuration);
                var certificate = SandboxCertificate.LoadOrCreate(dataPath);
                var pem = SandboxCertificate.ExportPem(certificate, Option("--out") ?? Path.Combine(dataPath, SandboxCertificate.PemFileName));
                var https = Urls(configuration).Where(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
                await output.WriteLineAsync(SandboxCertificate.TrustInstructions(pem, certificate, https));
                return 0;
            case "help":
                await output.WriteLineAsync(Usage);
                return 0;
            default:
                await Console.Error.WriteLineAsync($"Unknown command '{Command}'.\n\n{Usage}");
                return 2;
        }
    }

    private static string DataPath(IConfiguration configuration) => configuration["Sandbox:DataPath"] ?? Path.Combine(".entrasnow", "sandbox");

    private static string[] Urls(IConfiguration configuration) =>
        (configuration["urls"] ?? DefaultUrls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private int IntOption(string name, int fallback) =>
        int.TryParse(Option(name), CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
