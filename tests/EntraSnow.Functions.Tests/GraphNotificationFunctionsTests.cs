using System.Text;
using Azure.Messaging;
using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Intake;
using EntraSnow.Functions.Messaging;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Functions.Tests;

/// <summary>The HTTP and Event Grid functions as the Functions host calls them, over the app's own composition.</summary>
public sealed class GraphNotificationFunctionsTests : IDisposable
{
    private const string UserId = "8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f";
    private readonly IMessageQueue _queue = Substitute.For<IMessageQueue>();
    private readonly ServiceProvider _provider;

    public GraphNotificationFunctionsTests()
    {
        var settings = FunctionsCompositionTests.AzureSettings();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddProblemDetails();
        services.AddEntraSnowFunctions(configuration);
        services.AddSingleton(_queue);
        _provider = services.BuildServiceProvider();
    }

    public void Dispose() => _provider.Dispose();

    private static string Item(string clientState) => $$"""
        {"changeType":"updated","clientState":"{{clientState}}","resource":"Users/{{UserId}}",
        "resourceData":{"@odata.type":"#Microsoft.Graph.User","id":"{{UserId}}"},"subscriptionId":"s1","tenantId":"t1"}
        """;

    private static string Notification(string clientState) => $$"""{"value":[{{Item(clientState)}}]}""";

    private Task<int> Post(Func<GraphNotificationFunctions, HttpRequest, Task<IResult>> function, string? query, string body) =>
        Post(_provider, function, query, body);

    private static async Task<int> Post(IServiceProvider provider, Func<GraphNotificationFunctions, HttpRequest, Task<IResult>> function, string? query, string body)
    {
        var context = new DefaultHttpContext { RequestServices = provider };
        context.Request.Method = "POST";
        context.Request.QueryString = query is null ? QueryString.Empty : new QueryString(query);
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        context.Response.Body = new MemoryStream();

        var result = await function(provider.GetRequiredService<GraphNotificationFunctions>(), context.Request);
        await result.ExecuteAsync(context);
        return context.Response.StatusCode;
    }

    [Fact]
    public async Task Notification_is_queued_before_the_function_answers_202()
    {
        var status = await Post((f, r) => f.Notifications(r, CancellationToken.None), null, Notification("a-client-state-of-enough-length"));

        Assert.Equal(202, status);
        await _queue.Received(1).SendAsync(QueueNames.UserChanges, Arg.Is<IReadOnlyList<ChangeMessage>>(m => m.Single().SubjectId == UserId), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Lifecycle_route_answers_the_validation_handshake()
    {
        var status = await Post((f, r) => f.Lifecycle(r, CancellationToken.None), "?validationToken=abc", "");

        Assert.Equal(200, status);
    }

    [Fact]
    public async Task A_failed_Service_Bus_send_is_a_503_not_a_202()
    {
        _queue.SendAsync(default!, default!, default).ReturnsForAnyArgs(Task.FromException(new HttpRequestException("Service Bus said 500")));

        var status = await Post((f, r) => f.Notifications(r, CancellationToken.None), null, Notification("a-client-state-of-enough-length"));

        Assert.Equal(503, status);
    }

    [Fact]
    public async Task A_queue_write_Service_Bus_has_not_accepted_within_the_send_timeout_is_a_503()
    {
        var clock = new FakeTimeProvider();
        var client = Substitute.For<ServiceBusClient>();
        var sender = Substitute.For<ServiceBusSender>();
        client.CreateSender(Arg.Any<string>()).Returns(sender);
        sender.CreateMessageBatchAsync(Arg.Any<CancellationToken>())
            .Returns(_ => ServiceBusModelFactory.ServiceBusMessageBatch(256 * 1024, new List<ServiceBusMessage>()));
        sender.SendMessagesAsync(Arg.Any<ServiceBusMessageBatch>(), Arg.Any<CancellationToken>())
            .Returns(call => Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>()));
        var services = new ServiceCollection().AddLogging().AddProblemDetails().AddSingleton<TimeProvider>(clock);
        services.AddEntraSnowFunctions(new ConfigurationBuilder().AddInMemoryCollection(FunctionsCompositionTests.AzureSettings()).Build());
        services.AddSingleton<IMessageQueue>(sp => new ServiceBusQueue(client, sp.GetRequiredService<IOptions<ServiceBusOptions>>(), clock));
        await using var provider = services.BuildServiceProvider();

        // Everything up to Service Bus's answer completes at once; the answer never comes.
        var answer = Post(provider, (f, r) => f.Notifications(r, CancellationToken.None), null, Notification("a-client-state-of-enough-length"));
        Assert.False(answer.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(503, await answer);
    }

    [Fact]
    public async Task Event_Grid_event_lands_in_the_same_queue()
    {
        var cloudEvent = new CloudEvent("/tenants/t1/applications/a1", "Microsoft.Graph.UserUpdated",
            BinaryData.FromString(Item("a-client-state-of-enough-length")), "application/json")
        {
            Subject = $"Users/{UserId}",
        };

        await _provider.GetRequiredService<GraphNotificationFunctions>().EventGrid(cloudEvent, CancellationToken.None);

        await _queue.Received(1).SendAsync(QueueNames.UserChanges, Arg.Any<IReadOnlyList<ChangeMessage>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Unreadable_Event_Grid_event_is_dropped_rather_than_retried_forever()
    {
        var cloudEvent = new CloudEvent("/tenants/t1", "Microsoft.Graph.UserUpdated", BinaryData.FromString("not json"), "application/json");

        await _provider.GetRequiredService<GraphNotificationFunctions>().EventGrid(cloudEvent, CancellationToken.None);

        await _queue.DidNotReceiveWithAnyArgs().SendAsync(default!, default!, default);
    }
}
