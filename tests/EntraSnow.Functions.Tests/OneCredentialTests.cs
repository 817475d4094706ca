using System.Collections.Concurrent;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;

namespace EntraSnow.Functions.Tests;

/// <summary>
/// The Functions app signs in with one TokenCredential (its user-assigned identity): Graph, Table storage, Service Bus
/// and the telemetry exporter all ask the same credential for their tokens.
/// </summary>
public sealed class OneCredentialTests : IDisposable
{
    private readonly RecordingCredential _credential = new();
    private readonly ServiceProvider _provider;

    public OneCredentialTests()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(FunctionsCompositionTests.AzureSettings()).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<TokenCredential>(_credential);
        services.AddEntraSnowFunctions(configuration);
        _provider = services.BuildServiceProvider();
    }

    public void Dispose() => _provider.Dispose();

    [Fact]
    public async Task Graph_asks_the_apps_credential_for_its_token()
    {
        var request = new RequestInformation { HttpMethod = Method.GET, URI = new Uri("https://graph.microsoft.com/v1.0/users") };

        await Assert.ThrowsAsync<AuthenticationFailedException>(() =>
            _provider.GetRequiredService<IAuthenticationProvider>().AuthenticateRequestAsync(request));

        Assert.Contains("https://graph.microsoft.com/.default", _credential.Scopes);
    }

    [Fact]
    public async Task Table_storage_asks_the_apps_credential_for_its_token()
    {
        // The token is asked for before anything is sent; the recording credential refuses, so nothing is.
        await Assert.ThrowsAsync<AuthenticationFailedException>(() =>
            _provider.GetRequiredService<TableServiceClient>().GetTableClient("EntraSnowCheckpoints").CreateIfNotExistsAsync());

        Assert.Contains("https://storage.azure.com/.default", _credential.Scopes);
    }

    /// <summary>Records the scopes asked for and refuses, as a credential that cannot sign in does.</summary>
    private sealed class RecordingCredential : TokenCredential
    {
        public ConcurrentBag<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (var scope in requestContext.Scopes)
            {
                Scopes.Add(scope);
            }

            throw new AuthenticationFailedException("The test credential signs nobody in.");
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
