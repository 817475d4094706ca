using System.Text.Json.Nodes;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Functions.Tests;

/// <summary>The Functions app's health route, over the app's own composition with the shared pauses faked.</summary>
public sealed class HealthFunctionsTests : IDisposable
{
    private readonly ISharedConnectorPauses _pauses = Substitute.For<ISharedConnectorPauses>();
    private readonly ServiceProvider _provider;

    public HealthFunctionsTests()
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails();
        services.AddEntraSnowFunctions(new ConfigurationBuilder().AddInMemoryCollection(FunctionsCompositionTests.AzureSettings()).Build());
        services.AddSingleton(_pauses);
        _provider = services.BuildServiceProvider();
    }

    public void Dispose() => _provider.Dispose();

    private async Task<(int Status, JsonNode Body)> GetAsync()
    {
        var context = new DefaultHttpContext { RequestServices = _provider };
        context.Request.Method = "GET";
        context.Response.Body = new MemoryStream();

        var result = await _provider.GetRequiredService<HealthFunctions>().Health(context.Request, CancellationToken.None);
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, (await JsonNode.ParseAsync(context.Response.Body))!);
    }

    [Fact]
    public async Task Health_is_degraded_naming_the_connector_another_instance_paused_with_its_reason_and_waiting_queues()
    {
        var since = new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);
        _pauses.ListAsync(Arg.Any<CancellationToken>()).Returns([
            new ConnectorPause("serviceNow", "credentials refused (401): ServiceNow refused the OAuth client credentials.", since,
                [QueueNames.GroupChanges, QueueNames.UserChanges], since.AddMinutes(1)),
        ]);

        var (status, body) = await GetAsync();

        Assert.Equal(200, status);
        Assert.Equal("degraded", (string?)body["status"]);
        var paused = Assert.Single(body["paused"]!.AsArray())!;
        Assert.Equal("serviceNow", (string?)paused["connector"]);
        Assert.Contains("401", (string?)paused["reason"], StringComparison.Ordinal);
        Assert.Equal([QueueNames.GroupChanges, QueueNames.UserChanges], paused["queues"]!.AsArray().Select(q => (string?)q));
        Assert.Equal(since.AddMinutes(1), paused["nextProbe"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public void The_app_keeps_its_paused_connectors_in_Table_storage_where_every_instance_reads_them()
    {
        using var provider = FunctionsCompositionTests.Build(FunctionsCompositionTests.AzureSettings());

        Assert.IsType<EntraSnow.Stores.AzureTables.TableConnectorPauses>(provider.GetRequiredService<ISharedConnectorPauses>());
    }

    [Fact]
    public async Task Health_is_healthy_when_no_connector_is_paused()
    {
        _pauses.ListAsync(Arg.Any<CancellationToken>()).Returns([]);

        var (status, body) = await GetAsync();

        Assert.Equal(200, status);
        Assert.Equal("healthy", (string?)body["status"]);
        Assert.Empty(body["paused"]!.AsArray());
    }
}
