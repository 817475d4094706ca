using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Graph.Tests.Support;

/// <summary>
/// A subscriber on loopback, as the local host would be: answers Graph's validation handshake (or, when told to,
/// answers it wrongly) and hands every posted notification to the test through a channel, so tests await, never sleep.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<JsonObject> _notifications = Channel.CreateUnbounded<JsonObject>();

    private WebhookReceiver(WebApplication app) => _app = app;

    public string NotificationUrl { get; private set; } = "";

    public string LifecycleUrl { get; private set; } = "";

    /// <summary>When false, the handshake is answered 200 with the wrong body, and Graph must refuse the subscription.</summary>
    public bool EchoValidationToken { get; set; } = true;

    public int ValidationRequests { get; private set; }

    /// <summary>The status change notifications are answered with; anything but 2xx refuses them (they are not handed to the test).</summary>
    public int NotificationStatus { get; set; } = StatusCodes.Status202Accepted;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/api/graph/{kind}", async (HttpContext context, string kind) =>
        {
            if (context.Request.Query.TryGetValue("validationToken", out var token))
            {
                receiver.ValidationRequests++;
                return Results.Text(receiver.EchoValidationToken ? token.ToString() : "nope", "text/plain");
            }

            if (receiver.NotificationStatus is < 200 or > 299)
            {
                return Results.StatusCode(receiver.NotificationStatus);
            }

            var body = await JsonNode.ParseAsync(context.Request.Body);
            var envelope = new JsonObject { ["endpoint"] = kind, ["payload"] = body };
            await receiver._notifications.Writer.WriteAsync(envelope);
            return Results.StatusCode(receiver.NotificationStatus);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        receiver.NotificationUrl = $"{address}/api/graph/notifications";
        receiver.LifecycleUrl = $"{address}/api/graph/lifecycle";
        return receiver;
    }

    /// <summary>The next notification POST: <c>{"endpoint": "notifications"|"lifecycle", "payload": {...}}</c>.</summary>
    public async Task<JsonObject> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _notifications.Reader.ReadAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
