using Azure.Core;
using Azure.Identity;
using EntraSnow.Connectors.Graph.Auth;
using EntraSnow.Connectors.Graph.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;

namespace EntraSnow.Connectors.Graph;

public static class GraphServiceCollectionExtensions
{
    public const string HttpClientName = "EntraSnow.Graph";

    /// <summary>
    /// <see cref="IDirectory"/> and <see cref="IGraphSubscriptions"/> over the Graph SDK, configured from the <c>Graph</c>
    /// section and validated at start-up. Also registers <see cref="GraphCallCounter"/>.
    /// </summary>
    public static IServiceCollection AddGraphConnector(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GraphOptions>()
            .Bind(configuration.GetSection(GraphOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GraphCallCounter>();
        services.TryAddSingleton<IdentityProtectionPacer>();
        services.TryAddTransient<ThrottlingHandler>();
        services.TryAddTransient<CallCountingHandler>();
        services.AddHttpClient(EmulatorClientCredential.HttpClientName);

        // The SDK's handlers (redirects, parameter decoding, headers, telemetry) minus its RetryHandler, then ours:
        // throttling outside, counting innermost so every attempt on the wire is counted.
        services.AddHttpClient(HttpClientName)
            .ConfigureAdditionalHttpMessageHandlers((handlers, provider) =>
            {
                foreach (var handler in GraphClientFactory.CreateDefaultHandlers().Where(h => h is not RetryHandler))
                {
                    handlers.Add(handler);
                }

                handlers.Add(provider.GetRequiredService<ThrottlingHandler>());
                handlers.Add(provider.GetRequiredService<CallCountingHandler>());
            });

        services.TryAddSingleton(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<GraphOptions>>().Value;
            var baseUri = settings.BaseUri;
            var scope = settings.Credential == GraphCredentialKind.Sandbox
                ? $"{baseUri.GetLeftPart(UriPartial.Authority)}/.default"
                : baseUri.Host.EndsWith("graph.microsoft.com", StringComparison.OrdinalIgnoreCase)
                    ? "https://graph.microsoft.com/.default"
                    : $"https://{baseUri.Host}/.default";
            return new GraphAppCredential(CreateCredential(settings, provider), scope);
        });
        services.TryAddSingleton<IAuthenticationProvider>(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<GraphOptions>>().Value;
            var app = provider.GetRequiredService<GraphAppCredential>();
            // The provider only attaches tokens for its allowed hosts: name ours, so the emulator is authenticated too.
            return new AzureIdentityAuthenticationProvider(app.Credential, [settings.BaseUri.Host], null, settings.Credential != GraphCredentialKind.Sandbox, app.Scope);
        });

        services.TryAddTransient(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<GraphOptions>>().Value;
            var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
            return new GraphServiceClient(http, provider.GetRequiredService<IAuthenticationProvider>(), settings.BaseUri.ToString().TrimEnd('/'));
        });
        services.TryAddTransient<IDirectory, GraphDirectory>();
        services.TryAddTransient<IGraphSubscriptions, GraphSubscriptionsClient>();
        services.TryAddTransient<GraphUserPrivileges>();
        services.TryAddTransient<IUserPrivileges>(provider => provider.GetRequiredService<GraphUserPrivileges>());
        services.TryAddTransient<IMailSender>(provider => provider.GetRequiredService<GraphUserPrivileges>());
        return services;
    }

    /// <remarks>
    /// With <c>ManagedIdentity</c>, a host that registers its own <see cref="TokenCredential"/> (the Functions app: its one
    /// user-assigned identity, also used for Service Bus and Table storage) is used as it is, so the app has one token
    /// cache and one identity; <c>Graph:ManagedIdentityClientId</c> then does not apply.
    /// </remarks>
    private static TokenCredential CreateCredential(GraphOptions settings, IServiceProvider provider) => settings.Credential switch
    {
        GraphCredentialKind.ManagedIdentity => provider.GetService<TokenCredential>() ?? (string.IsNullOrEmpty(settings.ManagedIdentityClientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(settings.ManagedIdentityClientId))),
        GraphCredentialKind.ClientSecret => new ClientSecretCredential(settings.TenantId, settings.ClientId, settings.ClientSecret),
        GraphCredentialKind.Certificate => string.IsNullOrEmpty(settings.CertificatePassword)
            ? new ClientCertificateCredential(settings.TenantId, settings.ClientId, settings.CertificatePath)
            : new ClientCertificateCredential(settings.TenantId, settings.ClientId,
                System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(settings.CertificatePath!, settings.CertificatePassword)),
        GraphCredentialKind.Developer => new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            TenantId = settings.TenantId,
            ExcludeManagedIdentityCredential = true,
            ExcludeWorkloadIdentityCredential = true,
        }),
        GraphCredentialKind.Sandbox => new EmulatorClientCredential(
            provider.GetRequiredService<IHttpClientFactory>(),
            SandboxTokenUrl(settings),
            settings.ClientId ?? "entrasnow-sandbox",
            settings.ClientSecret ?? "sandbox",
            provider.GetRequiredService<TimeProvider>()),
        _ => throw new InvalidOperationException($"Unknown Graph credential kind {settings.Credential}."),
    };

    /// <summary>The emulator serves its token endpoint beside the API root: <c>{root}/{tenant}/oauth2/v2.0/token</c>.</summary>
    public static Uri SandboxTokenUrl(GraphOptions settings)
    {
        if (settings.TokenUrl is not null)
        {
            return new Uri(settings.TokenUrl);
        }

        var root = settings.BaseUri.ToString().TrimEnd('/');
        if (root.EndsWith("/v1.0", StringComparison.OrdinalIgnoreCase) || root.EndsWith("/beta", StringComparison.OrdinalIgnoreCase))
        {
            root = root[..root.LastIndexOf('/')];
        }

        return new Uri($"{root}/{Uri.EscapeDataString(settings.TenantId ?? "sandbox")}/oauth2/v2.0/token");
    }
}
