using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.ProvisioningLog;
using EntraSnow.LocalHost.StatusPage;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.StatusPage;

/// <summary>The status page's routes over real HTTP: what an operator's browser fetches, and what it may not do from another site.</summary>
public sealed class StatusPageRoutesTests : IAsyncLifetime
{
    private LocalHostHarness _host = null!;

    public async Task InitializeAsync() => _host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly(Samples.ClientState));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _host.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<JsonElement> QueueAsync(string queue) =>
        (await GetJsonAsync("/api/local/status")).GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("queue").GetString() == queue);

    private Task<long> DeadLetterOneAsync(string subject) => PoisonMessage.DeadLetterAsync(_host.Queues, subject);

    [Fact]
    public async Task The_root_serves_the_status_page_that_may_not_be_framed_nor_load_anything_from_elsewhere()
    {
        using var response = await _host.Client.GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>EntraSnow local host</title>", html, StringComparison.Ordinal);
        Assert.Contains("/status-page/status.js", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http", html.Replace("http-equiv", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        using var script = await _host.Client.GetAsync("/status-page/status.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Client.GetAsync("/status-page/appsettings.json")).StatusCode);
    }

    [Fact]
    public async Task Status_shows_a_notification_queued_the_moment_intake_answered()
    {
        Assert.Equal(0, (await QueueAsync(QueueNames.UserChanges)).GetProperty("depth").GetInt64());

        using var content = new ByteArrayContent(Samples.GraphSampleBytes("user-updated.json"));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var accepted = await _host.Client.PostAsync("/api/graph/notifications", content);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var queue = await QueueAsync(QueueNames.UserChanges);
        Assert.Equal(1, queue.GetProperty("depth").GetInt64());
        Assert.Equal(0, queue.GetProperty("deadLettered").GetInt64());
        var sandbox = (await GetJsonAsync("/api/local/status")).GetProperty("sandbox");
        Assert.True(sandbox.GetProperty("graph").GetBoolean());
        Assert.Contains(sandbox.GetProperty("links").EnumerateArray(), l => l.GetProperty("path").GetString()!.StartsWith("/sandbox/servicenow/api/now/table/sys_user?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Status_shows_the_running_full_sync_with_its_progress()
    {
        Assert.Equal(JsonValueKind.Null, (await GetJsonAsync("/api/local/status")).GetProperty("sync").ValueKind);
        var graph = _host.Services.GetRequiredService<GraphEmulator>();
        await graph.CreateUserAsync("Ada Lovelace");
        await graph.CreateUserAsync("Grace Hopper");

        var runner = _host.Services.GetRequiredService<FullSyncRunner>();
        var runId = await runner.StartAsync();

        // No consumers here: the walk's first step waits in the queue.
        var sync = (await GetJsonAsync("/api/local/status")).GetProperty("sync");
        Assert.Equal(runId, sync.GetProperty("runId").GetString());
        Assert.True(sync.GetProperty("running").GetBoolean());
        Assert.Equal("reading Entra ID", sync.GetProperty("phase").GetString());
        Assert.Equal(1, (await QueueAsync(QueueNames.UserChanges)).GetProperty("depth").GetInt64());

        // The step read (as a consumer would): both users are new, so both are planned for their handler, and the
        // fan-out's step that queues them waits behind the first.
        await runner.HandlePageAsync(Step(runId, 0), CancellationToken.None);
        sync = (await GetJsonAsync("/api/local/status")).GetProperty("sync");
        Assert.Equal("provisioning users", sync.GetProperty("phase").GetString());
        Assert.Equal(2, sync.GetProperty("usersQueued").GetInt32());
        Assert.Equal(0, sync.GetProperty("usersDone").GetInt32());
        Assert.Equal(2, (await QueueAsync(QueueNames.UserChanges)).GetProperty("depth").GetInt64());

        // The fan-out's step read: the two users join the two steps (read here, not taken) in the queue.
        await runner.HandlePageAsync(Step(runId, 1), CancellationToken.None);
        Assert.Equal("provisioning users", (await GetJsonAsync("/api/local/status")).GetProperty("sync").GetProperty("phase").GetString());
        Assert.Equal(4, (await QueueAsync(QueueNames.UserChanges)).GetProperty("depth").GetInt64());
    }

    private static ChangeMessage Step(string runId, int page) => new()
    {
        MessageId = $"step-{page}", SessionKey = "step", Kind = MessageKinds.UserSyncPage, TenantId = "t", SubjectId = $"full sync step {page}",
        ChangedAt = DateTimeOffset.UtcNow, CorrelationId = runId,
        Properties = new Dictionary<string, string> { [ProvisioningMessageProperties.SyncRun] = runId, [ProvisioningMessageProperties.SyncPage] = $"{page}" },
    };

    [Fact]
    public async Task Decisions_are_filtered_by_user_action_and_run()
    {
        var log = _host.Services.GetRequiredService<SqliteProvisioningLog>();
        var at = DateTimeOffset.UtcNow;
        foreach (var (subject, action, run) in new[] { ("u-ada", ProvisioningAction.Created, "sync-1"), ("u-ada", ProvisioningAction.Failed, "sync-2"), ("u-bob", ProvisioningAction.Failed, "sync-2"), ("u-bob", ProvisioningAction.Unchanged, "sync-1") })
        {
            await log.AppendAsync(new ProvisioningLogEntry
            {
                Timestamp = at, CorrelationId = run, MessageId = $"{subject}-{run}", SubjectId = subject, ObjectKind = ProvisioningObjectKinds.User,
                Action = action, ChangedFields = action == ProvisioningAction.Created ? ["user_name", "email"] : [], Reason = action == ProvisioningAction.Failed ? "department 'Nowhere' not found" : null,
            });
        }

        static IEnumerable<string> Keys(JsonElement entries) => entries.EnumerateArray().Select(e => $"{e.GetProperty("subjectId").GetString()}/{e.GetProperty("action").GetString()}/{e.GetProperty("run").GetString()}");
        Assert.Equal(["u-bob/unchanged/sync-1", "u-bob/failed/sync-2", "u-ada/failed/sync-2", "u-ada/created/sync-1"], Keys(await GetJsonAsync("/api/local/decisions")));
        Assert.Equal(["u-bob/failed/sync-2", "u-ada/failed/sync-2"], Keys(await GetJsonAsync("/api/local/decisions?action=failed")));
        Assert.Equal(["u-ada/failed/sync-2", "u-ada/created/sync-1"], Keys(await GetJsonAsync("/api/local/decisions?user=u-ada")));
        Assert.Equal(["u-bob/unchanged/sync-1"], Keys(await GetJsonAsync("/api/local/decisions?user=u-bob&run=sync-1")));
        Assert.Equal(["u-ada/failed/sync-2"], Keys(await GetJsonAsync("/api/local/decisions?user=u-ada&action=FAILED&run=sync-2")));
        Assert.Equal(["u-bob/unchanged/sync-1"], Keys(await GetJsonAsync("/api/local/decisions?limit=1")));
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Client.GetAsync("/api/local/decisions?action=deleted")).StatusCode);
    }

    [Fact]
    public async Task A_dead_letter_is_replayed_from_the_page_and_only_from_it()
    {
        var id = await DeadLetterOneAsync("u-poison");
        var letter = (await GetJsonAsync("/api/local/deadletters")).EnumerateArray().Single();
        Assert.Equal(id, letter.GetProperty("sequence").GetInt64());
        Assert.Equal(PoisonMessage.Reason, letter.GetProperty("reason").GetString());
        Assert.Equal(PoisonMessage.Description, letter.GetProperty("description").GetString());

        // What another site open in the operator's browser could send: a plain form post (no custom header), a fetch
        // from its origin, and a fetch through a DNS name rebound to 127.0.0.1.
        var own = new Uri(_host.BaseUrl);
        foreach (var (header, origin, host, site) in new (bool, string?, string?, string?)[]
        {
            (false, _host.BaseUrl, null, "same-origin"),
            (true, "https://attacker.example", null, "cross-site"),
            (true, "https://attacker.example", null, null),
            (true, $"http://rebound.attacker.example:{own.Port}", $"rebound.attacker.example:{own.Port}", null),
        })
        {
            using var forged = new HttpRequestMessage(HttpMethod.Post, $"/api/local/deadletters/{id}/replay");
            if (header)
            {
                forged.Headers.Add(SameOriginAction.HeaderName, "replay");
            }

            forged.Headers.Add("Origin", origin);
            if (host is not null)
            {
                forged.Headers.Host = host;
            }

            if (site is not null)
            {
                forged.Headers.Add("Sec-Fetch-Site", site);
            }

            using var refused = await _host.Client.SendAsync(forged);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        Assert.Equal(1, (await QueueAsync(QueueNames.UserChanges)).GetProperty("deadLettered").GetInt64());

        // The page's own request: the custom header, this host's origin, reached as localhost or 127.0.0.1.
        using var replay = new HttpRequestMessage(HttpMethod.Post, $"/api/local/deadletters/{id}/replay");
        replay.Headers.Add(SameOriginAction.HeaderName, "replay");
        replay.Headers.Add("Origin", $"http://localhost:{own.Port}");
        replay.Headers.Add("Sec-Fetch-Site", "same-origin");
        using var replayed = await _host.Client.SendAsync(replay);

        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        var queue = await QueueAsync(QueueNames.UserChanges);
        Assert.Equal(0, queue.GetProperty("deadLettered").GetInt64());
        Assert.Equal(1, queue.GetProperty("depth").GetInt64());
        Assert.Empty((await GetJsonAsync("/api/local/deadletters")).EnumerateArray());
        using var again = new HttpRequestMessage(HttpMethod.Post, $"/api/local/deadletters/{id}/replay");
        again.Headers.Add(SameOriginAction.HeaderName, "replay");
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Client.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task Subscriptions_are_listed_with_their_expiry_and_when_upkeep_renews_them()
    {
        var expires = DateTimeOffset.UtcNow.AddHours(30);
        // Created through the connector as upkeep does: the Graph emulator validates this host's endpoint first.
        await _host.Services.GetRequiredService<IGraphSubscriptions>().CreateAsync(new SubscriptionRequest
        {
            Resource = "/users", NotificationUrl = $"{_host.BaseUrl}/api/graph/notifications", ClientState = Samples.ClientState, ExpirationDateTime = expires,
        });

        var answer = await GetJsonAsync("/api/local/subscriptions");

        Assert.Equal(JsonValueKind.Null, answer.GetProperty("error").ValueKind);
        var subscription = answer.GetProperty("subscriptions").EnumerateArray().Single();
        Assert.Equal("/users", subscription.GetProperty("resource").GetString());
        Assert.InRange(subscription.GetProperty("hoursLeft").GetDouble(), 29.8, 30);
        Assert.Equal(expires.AddDays(-2).ToUnixTimeSeconds(), subscription.GetProperty("renewsFrom").GetDateTimeOffset().ToUnixTimeSeconds());
        Assert.DoesNotContain(Samples.ClientState, answer.GetRawText(), StringComparison.Ordinal);
    }
}
