using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Azure.Core;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Messaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Tests;

/// <summary>The Azure queue port against a loopback server that answers like the Service Bus REST API.</summary>
public sealed class ServiceBusRestQueueTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Path, string? ContentType, string? Authorization, string? BrokerProperties, string Body)> _requests = new();
    private WebApplication _server = null!;
    private int _status = 201;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        _server.MapPost("/{queue}/messages", async (HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            _requests.Enqueue((request.Path, request.ContentType, request.Headers.Authorization, request.Headers["BrokerProperties"], body));
            return Results.StatusCode(_status);
        });
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private ServiceBusRestQueue Queue(int maxBatch = 100)
    {
        var credential = Substitute.For<TokenCredential>();
        credential.GetTokenAsync(Arg.Any<TokenRequestContext>(), Arg.Any<CancellationToken>())
            .Returns(new ValueTask<AccessToken>(new AccessToken("test-token", DateTimeOffset.UtcNow.AddHours(1))));
        var options = Options.Create(new ServiceBusOptions { FullyQualifiedNamespace = "example.servicebus.windows.net", Endpoint = new Uri(_server.Urls.First() + "/"), MaxBatchSize = maxBatch });
        return new ServiceBusRestQueue(new HttpClient(), credential, options);
    }

    private static ChangeMessage Message(string id) => new()
    {
        MessageId = id, SessionKey = "user-" + id, Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = "user-" + id,
        ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "corr",
    };

    [Fact]
    public async Task Batch_is_one_post_with_the_service_bus_batch_format_and_a_bearer_token()
    {
        await Queue().SendAsync(QueueNames.UserChanges, [Message("a"), Message("b")]);

        var request = Assert.Single(_requests);
        Assert.Equal("/user-changes/messages", request.Path);
        Assert.StartsWith("application/vnd.microsoft.servicebus.json", request.ContentType, StringComparison.Ordinal);
        Assert.Equal("Bearer test-token", request.Authorization);
        using var json = JsonDocument.Parse(request.Body);
        var items = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal("a", items[0].GetProperty("BrokerProperties").GetProperty("MessageId").GetString());
        Assert.Equal("user-a", items[0].GetProperty("BrokerProperties").GetProperty("SessionId").GetString());
        Assert.Equal("corr", items[0].GetProperty("BrokerProperties").GetProperty("CorrelationId").GetString());
        Assert.Equal("a", ChangeMessageJson.Deserialize(items[0].GetProperty("Body").GetString()!).MessageId);
    }

    [Fact]
    public async Task Large_sends_are_split_into_batches()
    {
        await Queue(maxBatch: 2).SendAsync(QueueNames.UserChanges, [Message("a"), Message("b"), Message("c")]);

        Assert.Equal(2, _requests.Count);
    }

    [Fact]
    public async Task Scheduled_message_carries_ScheduledEnqueueTimeUtc_in_BrokerProperties()
    {
        var at = new DateTimeOffset(2026, 11, 24, 10, 30, 0, TimeSpan.Zero);

        await Queue().ScheduleAsync(QueueNames.UserChanges, Message("a"), at);

        var request = Assert.Single(_requests);
        using var broker = JsonDocument.Parse(request.BrokerProperties!);
        Assert.Equal("Tue, 24 Nov 2026 10:30:00 GMT", broker.RootElement.GetProperty("ScheduledEnqueueTimeUtc").GetString());
        Assert.Equal("a", broker.RootElement.GetProperty("MessageId").GetString());
    }

    [Fact]
    public async Task A_refused_send_throws_so_intake_answers_5xx()
    {
        _status = 401;

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => Queue().SendAsync(QueueNames.UserChanges, [Message("a")]));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.DoesNotContain("test-token", error.Message, StringComparison.Ordinal);
    }
}
