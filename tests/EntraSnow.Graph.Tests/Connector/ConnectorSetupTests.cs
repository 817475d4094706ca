using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntraSnow.Graph.Tests.Connector;

public sealed class ConnectorSetupTests
{
    private static OptionsValidationException? Validate(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = new ServiceCollection().AddLogging().AddGraphConnector(configuration).BuildServiceProvider();
        return Record.Exception(() => provider.GetRequiredService<IOptions<GraphOptions>>().Value) as OptionsValidationException;
    }

    [Fact]
    public void A_client_secret_credential_without_its_secret_fails_at_start_up()
    {
        var failure = Validate(new() { ["Graph:Credential"] = "ClientSecret", ["Graph:TenantId"] = "t", ["Graph:ClientId"] = "c" });

        Assert.NotNull(failure);
        Assert.Contains("ClientSecret", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_http_is_accepted_only_for_a_loopback_emulator()
    {
        Assert.NotNull(Validate(new() { ["Graph:Credential"] = "Sandbox", ["Graph:BaseUrl"] = "http://graph.example/v1.0" }));
        Assert.Null(Validate(new() { ["Graph:Credential"] = "Sandbox", ["Graph:BaseUrl"] = "http://127.0.0.1:7071/sandbox/graph/v1.0" }));
        Assert.Null(Validate(new() { ["Graph:Credential"] = "ManagedIdentity" }));
    }

    [Fact]
    public void The_sandbox_token_endpoint_sits_beside_the_api_root()
    {
        var url = GraphServiceCollectionExtensions.SandboxTokenUrl(new GraphOptions
        {
            BaseUrl = "http://127.0.0.1:7071/sandbox/graph/v1.0",
            TenantId = "tenant-1",
        });

        Assert.Equal("http://127.0.0.1:7071/sandbox/graph/tenant-1/oauth2/v2.0/token", url.ToString());
    }

    [Fact]
    public async Task Under_the_local_hosts_prefix_reads_delta_and_batches_work_end_to_end()
    {
        await using var graph = await ConnectorHarness.StartAsync(prefix: "/sandbox/graph");
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 30, Groups = 0 });

        Assert.EndsWith("/sandbox/graph/v1.0", graph.Server.BaseUrl, StringComparison.Ordinal);
        Assert.NotNull(await graph.Directory.GetUserAsync(seeded.UserIds[0]));
        Assert.Equal(30, (await graph.Directory.GetUsersAsync(seeded.UserIds)).Count);
        var total = 0;
        await foreach (var page in graph.Directory.GetUsersDeltaAsync(null))
        {
            total += page.Items.Count;
        }

        Assert.Equal(30, total);
    }
}
