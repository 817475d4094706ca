using EntraSnow.Tests.Shared;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Tests.Support;

namespace EntraSnow.LocalHost.Tests.Intake;

/// <summary>The local host over real HTTP on loopback, fed the payload samples Graph documents.</summary>
public sealed class LocalHostIntakeTests : IAsyncLifetime
{
    private LocalHostHarness _host = null!;

    public async Task InitializeAsync() => _host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly(Samples.ClientState));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<HttpResponseMessage> PostSample(string path, string sample, string contentType = "application/json")
    {
        var content = new ByteArrayContent(Samples.GraphSampleBytes(sample));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return await _host.Client.PostAsync(path, content);
    }

    private async Task<long> Depth(string queue) => (await _host.Queues.GetStatsAsync()).Single(s => s.Queue == queue).Depth;

    [Fact]
    public async Task Validation_handshake_from_the_sample_is_answered_with_the_token_in_plain_text()
    {
        using var response = await _host.Client.PostAsync(
            "/api/graph/notifications?validationToken=Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+3a2ae9f6-63b5-4a6e-8d0f-2d1f3c1f9a11",
            new StringContent("", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Validation: Testing client application reachability for subscription Request-Id: 3a2ae9f6-63b5-4a6e-8d0f-2d1f3c1f9a11",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Every_graph_sample_lands_in_its_queue()
    {
        foreach (var (path, sample) in new[]
        {
            ("/api/graph/notifications", "user-updated.json"),
            ("/api/graph/notifications", "user-deleted.json"),
            ("/api/graph/notifications", "group-updated.json"),
            ("/api/graph/lifecycle", "lifecycle-reauthorization-observed.json"),
        })
        {
            using var response = await PostSample(path, sample);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.Equal(2, await Depth(QueueNames.UserChanges));
        Assert.Equal(1, await Depth(QueueNames.GroupChanges));
        Assert.Equal(1, await Depth(QueueNames.SubscriptionLifecycle));
    }

    [Fact]
    public async Task The_same_notification_three_times_is_queued_once()
    {
        for (var i = 0; i < 3; i++)
        {
            using var response = await PostSample("/api/graph/notifications", "user-updated.json");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.Equal(1, await Depth(QueueNames.UserChanges));
    }

    [Fact]
    public async Task Event_Grid_handshake_allows_the_origin_and_events_land_in_the_same_queue_without_duplicating_the_webhook()
    {
        using var options = new HttpRequestMessage(HttpMethod.Options, "/api/eventgrid/graph");
        options.Headers.Add("WebHook-Request-Origin", "eventgrid.azure.net");
        using var handshake = await _host.Client.SendAsync(options);
        Assert.Equal(HttpStatusCode.OK, handshake.StatusCode);
        Assert.Equal("eventgrid.azure.net", handshake.Headers.GetValues("WebHook-Allowed-Origin").Single());

        using var viaEventGrid = await PostSample("/api/eventgrid/graph", "eventgrid-user-updated.json", "application/cloudevents+json; charset=utf-8");
        using var viaWebhook = await PostSample("/api/graph/notifications", "user-updated.json");

        Assert.Equal(HttpStatusCode.Accepted, viaEventGrid.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, viaWebhook.StatusCode);
        Assert.Equal(1, await Depth(QueueNames.UserChanges));
    }

    [Fact]
    public async Task Event_Grid_batch_is_accepted()
    {
        var single = Samples.GraphSample("eventgrid-user-updated.json");
        var content = new StringContent($"[{single}]", Encoding.UTF8, "application/cloudevents-batch+json");

        using var response = await _host.Client.PostAsync("/api/eventgrid/graph", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, await Depth(QueueNames.UserChanges));
    }

    [Fact]
    public async Task Bad_input_gets_a_problem_answer_and_leaves_nothing_queued()
    {
        using var malformed = await _host.Client.PostAsync("/api/graph/notifications", new StringContent("{\"value\": [", Encoding.UTF8, "application/json"));
        using var wrongType = await _host.Client.PostAsync("/api/graph/notifications", new StringContent("{\"value\": []}", Encoding.UTF8, "text/xml"));
        using var tooLarge = await _host.Client.PostAsync("/api/graph/notifications", new StringContent(new string(' ', 1_100_000), Encoding.UTF8, "application/json"));
        using var badEvent = await _host.Client.PostAsync("/api/eventgrid/graph", new StringContent("{\"type\":\"x\"}", Encoding.UTF8, "application/cloudevents+json"));

        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badEvent.StatusCode);
        Assert.All(await _host.Queues.GetStatsAsync(), s => Assert.Equal(0, s.Depth));
    }

    [Fact]
    public async Task Health_reports_every_queue()
    {
        await PostSample("/api/graph/notifications", "user-updated.json");

        using var health = JsonDocument.Parse(await _host.Client.GetStringAsync("/api/health"));

        var queues = health.RootElement.GetProperty("queues").EnumerateArray().ToList();
        Assert.Equal(QueueNames.All, queues.Select(q => q.GetProperty("queue").GetString()));
        Assert.Equal(1, queues.Single(q => q.GetProperty("queue").GetString() == QueueNames.UserChanges).GetProperty("depth").GetInt32());
        Assert.Equal("healthy", health.RootElement.GetProperty("status").GetString());
        var connectors = health.RootElement.GetProperty("connectors").EnumerateArray().ToList();
        Assert.Equal(["graph", "serviceNow"], connectors.Select(c => c.GetProperty("name").GetString()));
        Assert.All(connectors, c => Assert.True(c.GetProperty("ok").GetBoolean()));
    }

    [Fact]
    public async Task Health_says_degraded_and_why_when_ServiceNow_cannot_be_reached()
    {
        var settings = LocalHostHarness.IntakeOnly(Samples.ClientState);
        settings["ServiceNow:InstanceUrl"] = $"http://127.0.0.1:{LocalHostHarness.FreePort()}";
        settings["ServiceNow:AuthMode"] = "Basic";
        settings["ServiceNow:Username"] = "someone";
        settings["ServiceNow:Password"] = "never-shown";
        settings["ServiceNow:MaxRetryAttempts"] = "1";
        settings["ServiceNow:RetryBaseDelay"] = "00:00:00.010";
        await using var host = await LocalHostHarness.StartAsync(settings);

        var body = await host.Client.GetStringAsync("/api/health");
        using var health = JsonDocument.Parse(body);

        Assert.Equal("degraded", health.RootElement.GetProperty("status").GetString());
        var serviceNow = health.RootElement.GetProperty("connectors").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "serviceNow");
        Assert.False(serviceNow.GetProperty("ok").GetBoolean());
        Assert.False(serviceNow.GetProperty("emulated").GetBoolean());
        Assert.DoesNotContain("never-shown", body, StringComparison.Ordinal);
    }
}
