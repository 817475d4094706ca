using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Tests.WorkerProtocol;

namespace EntraSnow.Functions.Tests;

/// <summary>
/// The built Functions app in the real isolated worker (Microsoft.Azure.Functions.Worker over gRPC), driven by a fixture
/// that plays the Functions host: proof that the app starts, composes, reports its functions and answers.
/// </summary>
[Trait("Category", "RealWorker")]
public sealed class RealWorkerTests(FunctionsHostFixture host) : IClassFixture<FunctionsHostFixture>
{
    [Fact]
    public void The_worker_initializes_and_announces_its_ASP_NET_Core_listener_on_loopback()
    {
        Assert.True(host.InitResponse.Result.Status == StatusResult.Types.Status.Success, host.Describe(host.InitResponse.Result));
        Assert.True(host.HttpUri.IsLoopback || host.HttpUri.Host == "localhost", host.HttpUri.ToString());
    }

    [Fact]
    public void The_worker_reports_every_function_with_the_bindings_the_build_generated_for_the_host()
    {
        // functions.metadata is what FunctionsMetadataTests checks against infra/ and docs/.
        var generated = JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsHostFixture.AppDirectory, "functions.metadata")))!.AsArray()
            .ToDictionary(f => (string)f!["name"]!, f => f!["bindings"]!.AsArray().Select(Normalized).Order(StringComparer.Ordinal).ToList());

        var reported = host.Metadata.FunctionMetadataResults.ToDictionary(
            f => f.Name, f => f.RawBindings.Select(b => Normalized(JsonNode.Parse(b))).Order(StringComparer.Ordinal).ToList());

        Assert.True(host.Metadata.Result.Status == StatusResult.Types.Status.Success, host.Describe(host.Metadata.Result));
        Assert.Equal(generated.Keys.Order(), reported.Keys.Order());
        Assert.All(generated, g => Assert.Equal(g.Value, reported[g.Key]));
        Assert.All(host.Metadata.FunctionMetadataResults, f => Assert.Equal("EntraSnow.Functions.dll", f.ScriptFile));
        Assert.Contains(reported["GraphNotifications"], b => b.Contains("\"route\":\"graph/notifications\"", StringComparison.Ordinal));
        Assert.Contains(reported["ProvisionUsers"], b => b.Contains("\"queueName\":\"user-changes\"", StringComparison.Ordinal) && b.Contains("\"isSessionsEnabled\":true", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_function_loads()
    {
        Assert.Equal(host.Metadata.FunctionMetadataResults.Count, host.LoadResponses.Count);
        Assert.All(host.LoadResponses, r => Assert.True(r.Result.Status == StatusResult.Types.Status.Success, host.Describe(r.Result)));
    }

    [Fact]
    public async Task Graph_validation_handshake_through_the_host_is_answered_with_the_token_as_plain_text()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/graph/notifications?validationToken=Validation%3A%20Testing%20client%20application%20reachability");

        var (http, invocation) = await host.SendHttpAsync("GraphNotifications", request);

        Assert.True(invocation.Result.Status == StatusResult.Types.Status.Success, host.Describe(invocation.Result));
        Assert.Equal(HttpStatusCode.OK, http.StatusCode);
        Assert.Equal("text/plain", http.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Validation: Testing client application reachability", await http.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_notification_with_a_wrong_client_state_is_refused_without_touching_the_queue()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/graph/notifications")
        {
            Content = new StringContent(Notification("not-the-configured-client-state"), Encoding.UTF8, "application/json"),
        };

        var (http, invocation) = await host.SendHttpAsync("GraphNotifications", request);

        Assert.True(invocation.Result.Status == StatusResult.Types.Status.Success, host.Describe(invocation.Result));
        Assert.Equal(HttpStatusCode.Accepted, http.StatusCode);
    }

    [Fact]
    public async Task A_notification_is_queued_to_Service_Bus_for_its_user_and_answered_202()
    {
        var userId = Guid.NewGuid().ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/graph/notifications")
        {
            Content = new StringContent(Notification(ClientState, userId), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("client-request-id", "graph-request-42");

        var (http, invocation) = await host.SendHttpAsync("GraphNotifications", request);

        Assert.True(invocation.Result.Status == StatusResult.Types.Status.Success, host.Describe(invocation.Result));
        Assert.True(http.StatusCode == HttpStatusCode.Accepted, $"{http.StatusCode}\n{host.Describe(invocation.Result)}");
        var queued = Assert.Single(host.Azure.ServiceBus.In(QueueNames.UserChanges), m => m.SessionId == userId);
        Assert.Equal("graph-request-42", queued.CorrelationId);
        Assert.False(string.IsNullOrEmpty(queued.MessageId));
    }

    [Fact]
    public async Task A_notification_Service_Bus_does_not_accept_is_answered_503_so_Graph_retries()
    {
        var userId = Guid.NewGuid().ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/graph/notifications")
        {
            Content = new StringContent(Notification(ClientState, userId), Encoding.UTF8, "application/json"),
        };
        host.Azure.ServiceBus.Refusing = true;
        try
        {
            var (http, invocation) = await host.SendHttpAsync("GraphNotifications", request);

            Assert.True(invocation.Result.Status == StatusResult.Types.Status.Success, host.Describe(invocation.Result));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, http.StatusCode);
            Assert.DoesNotContain(host.Azure.ServiceBus.In(QueueNames.UserChanges), m => m.SessionId == userId);
        }
        finally
        {
            host.Azure.ServiceBus.Refusing = false;
        }
    }

    [Fact]
    public async Task The_subscription_timer_subscribes_Graph_to_users_and_groups_once_the_app_answers_the_handshake_through_the_host()
    {
        var notificationUrl = new Uri(host.LoopbackHttpUri, "api/graph/notifications").AbsoluteUri;

        var invocation = await host.InvokeTimerAsync("SubscriptionUpkeep");

        Assert.True(invocation.Result.Status == StatusResult.Types.Status.Success, host.Describe(invocation.Result));
        var subscriptions = host.Azure.Graph.Emulator.Subscriptions;
        Assert.Contains(subscriptions, s => (string?)s["resource"] == "/users" && (string?)s["notificationUrl"] == notificationUrl);
        Assert.Contains(subscriptions, s => (string?)s["resource"] == "/groups" && (string?)s["notificationUrl"] == notificationUrl);
        Assert.Contains(host.Azure.Graph.Emulator.Deliveries, d => d.Kind == "validation" && d.Url == notificationUrl && d.StatusCode == 200);
    }

    [Fact]
    public async Task The_full_sync_timer_starts_the_runs_walk_of_Graph_users_on_the_user_changes_queue()
    {
        var invocation = await host.InvokeTimerAsync("FullSync");

        // The timer only starts the run: the walk through Graph's users goes on in queued steps handled by the
        // user-changes consumer, so no invocation carries a whole tenant (the steps are tested in-process).
        Assert.True(invocation.Result.Status == StatusResult.Types.Status.Success, host.Describe(invocation.Result));
        var step = Assert.Single(host.Azure.ServiceBus.In(QueueNames.UserChanges), m => m.SessionId?.StartsWith("fullsync:", StringComparison.Ordinal) == true);
        Assert.Contains(MessageKinds.UserSyncPage, step.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PollRiskDetections")]
    [InlineData("InactiveSweep")]
    public async Task The_other_timers_run_to_completion_in_the_worker(string function)
    {
        var invocation = await host.InvokeTimerAsync(function);

        Assert.True(invocation.Result.Status == StatusResult.Types.Status.Success, host.Describe(invocation.Result));
    }

    private static string ClientState => FunctionsCompositionTests.AzureSettings()["Graph:ClientState"]!;

    private static string Notification(string clientState, string userId = "8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f") => $$"""
        {"value":[{"changeType":"updated","clientState":"{{clientState}}","resource":"Users/{{userId}}",
        "resourceData":{"@odata.type":"#Microsoft.Graph.User","id":"{{userId}}"},"subscriptionId":"s1","tenantId":"t1"}]}
        """;

    /// <summary>A binding as canonical JSON: properties in name order, names camel-cased as the SDK writes them.</summary>
    private static string Normalized(JsonNode? binding)
    {
        var ordered = new JsonObject();
        foreach (var (name, value) in binding!.AsObject().Where(p => p.Key != "properties").OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            ordered[char.ToLowerInvariant(name[0]) + name[1..]] = value?.DeepClone();
        }

        return ordered.ToJsonString();
    }
}
