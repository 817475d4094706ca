using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Stores;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.ServiceNow;
using EntraSnow.Sandbox.ServiceNow.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Catalog;

/// <summary>
/// The signed catalog webhooks on the local host over real HTTP, sent by the ServiceNow emulator's signer (written
/// from the recipe, apart from EntraSnow's verifier) with the sandbox's documented default secret.
/// </summary>
public sealed class SignedWebhookTests : IAsyncLifetime
{
    private LocalHostHarness _host = null!;

    public async Task InitializeAsync() => _host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("a-client-state-for-these-tests"));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ServiceNowWebhookSender Sender => _host.Services.GetRequiredService<ServiceNowWebhookSender>();

    private ServiceNowEmulatorStore ServiceNow => _host.Services.GetRequiredService<ServiceNowEmulatorStore>();

    private async Task<long> Depth(string queue) => (await _host.Queues.GetStatsAsync()).Single(s => s.Queue == queue).Depth;

    private string NewUser(string userName) =>
        ServiceNow.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = userName, ["first_name"] = userName, ["last_name"] = "Tester" })["sys_id"];

    private byte[] PasswordResetBody(string requestedFor) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
    {
        ["table"] = "sc_req_item",
        ["sys_id"] = Guid.NewGuid().ToString("N"),
        ["number"] = "RITM0019999",
        ["requested_for"] = requestedFor,
        ["requested_by"] = requestedFor,
    });

    [Fact]
    public async Task Submitting_a_password_reset_in_the_emulated_catalog_creates_the_ticket_and_queues_it()
    {
        var userId = NewUser("ada");

        using var response = await _host.Client.PostAsJsonAsync("/sandbox/servicenow/sandbox-admin/catalog/password-reset", new { requested_for = "ada" });
        var result = await response.Content.ReadFromJsonAsync<CatalogSubmissionResult>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(202, result!.Webhook.StatusCode);
        var item = ServiceNow.Get("sc_req_item", result.Ticket.SysId)!;
        Assert.Equal(userId, item["requested_for"]);
        Assert.StartsWith("RITM", item["number"], StringComparison.Ordinal);
        Assert.Equal(result.Ticket.SysId, ServiceNow.Get("sc_task", result.Task.SysId)!["request_item"]);
        var queued = await _host.Queues.ReceiveAsync(QueueNames.PasswordResets);
        Assert.Equal(result.Ticket.SysId, queued!.Message.SubjectId);
        Assert.Equal(item["number"], queued.Message.Property("number"));
    }

    [Fact]
    public async Task Submitting_an_access_request_stores_its_variables_and_queues_it()
    {
        NewUser("grace");
        var groupId = ServiceNow.Insert("sys_user_group", new Dictionary<string, string> { ["name"] = "App - Payroll" })["sys_id"];

        using var response = await _host.Client.PostAsJsonAsync("/sandbox/servicenow/sandbox-admin/catalog/access-request", new { requested_for = "grace", group = "App - Payroll" });
        var result = await response.Content.ReadFromJsonAsync<CatalogSubmissionResult>();

        Assert.Equal(202, result!.Webhook.StatusCode);
        Assert.Equal(groupId, ServiceNow.Get("sc_req_item", result.Ticket.SysId)!["variables.group"]);
        var queued = await _host.Queues.ReceiveAsync(QueueNames.AccessRequests);
        Assert.Equal(groupId, queued!.Message.Property("group"));
        Assert.Equal("add", queued.Message.Property("action"));
    }

    [Fact]
    public async Task A_submission_for_an_unknown_user_is_refused_400_and_sends_nothing()
    {
        using var response = await _host.Client.PostAsJsonAsync("/sandbox/servicenow/sandbox-admin/catalog/password-reset", new { requested_for = "nobody" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await Depth(QueueNames.PasswordResets));
    }

    [Fact]
    public async Task A_replayed_request_is_refused_401_and_queued_once()
    {
        var body = PasswordResetBody(NewUser("replayed"));
        var first = await Sender.SendAsync(Sender.CreateRequest("/api/servicenow/password-reset", body, requestId: "replay-me"), default);

        var replay = await Sender.SendAsync(Sender.CreateRequest("/api/servicenow/password-reset", body, requestId: "replay-me"), default);

        Assert.Equal(202, first.StatusCode);
        Assert.Equal(401, replay.StatusCode);
        Assert.Contains("replay", replay.Body, StringComparison.Ordinal);
        Assert.Equal(1, await Depth(QueueNames.PasswordResets));
    }

    [Fact]
    public async Task A_stale_request_is_refused_401_and_nothing_queued()
    {
        var body = PasswordResetBody(NewUser("stale"));

        var stale = await Sender.SendAsync(Sender.CreateRequest("/api/servicenow/password-reset", body, signedAt: DateTimeOffset.UtcNow.AddMinutes(-6)), default);

        Assert.Equal(401, stale.StatusCode);
        Assert.Equal(0, await Depth(QueueNames.PasswordResets));
    }

    [Fact]
    public async Task Unsigned_wrongly_signed_oversized_and_malformed_requests_are_refused_and_nothing_queued()
    {
        var body = PasswordResetBody(NewUser("refused"));
        using var unsigned = await _host.Client.PostAsync("/api/servicenow/password-reset", new ByteArrayContent(body) { Headers = { { "Content-Type", "application/json" } } });
        var wrong = await Sender.SendAsync(Sender.CreateRequest("/api/servicenow/password-reset", body, secret: "not-the-secret-the-host-was-given-0000"), default);
        var oversized = await Sender.SendAsync(Sender.CreateRequest("/api/servicenow/access-request", new byte[65 * 1024]), default);
        var malformed = await Sender.SendAsync(Sender.CreateRequest("/api/servicenow/access-request", body), default);

        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal("application/problem+json", unsigned.Content.Headers.ContentType?.MediaType);
        Assert.Equal(401, wrong.StatusCode);
        Assert.Equal(413, oversized.StatusCode);
        Assert.Equal(400, malformed.StatusCode);
        Assert.All(await _host.Queues.GetStatsAsync(), s => Assert.Equal(0, s.Depth));
    }

    [Fact]
    public async Task Request_ids_are_remembered_in_the_data_folder_across_a_restart()
    {
        var path = Path.Combine(_host.DataPath, "webhook-requests.db");
        var signedAt = DateTimeOffset.UtcNow;
        Assert.True(await new SqliteWebhookReplayStore(path, TimeProvider.System).TryRememberAsync("kept", signedAt));

        var reopened = new SqliteWebhookReplayStore(path, TimeProvider.System);

        Assert.False(await reopened.TryRememberAsync("kept", signedAt));
        await reopened.ForgetAsync("kept", signedAt);
        Assert.True(await reopened.TryRememberAsync("kept", signedAt));
    }

    [Fact]
    public async Task Concurrent_requests_share_commits_and_of_one_id_sent_at_once_exactly_one_is_accepted()
    {
        var store = new SqliteWebhookReplayStore(Path.Combine(_host.DataPath, "concurrent-requests.db"), TimeProvider.System);
        var signedAt = DateTimeOffset.UtcNow;

        var distinct = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => store.TryRememberAsync($"id-{i}", signedAt))));
        var same = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.TryRememberAsync("replayed", signedAt))));

        Assert.All(distinct, Assert.True);
        Assert.Single(same, accepted => accepted);
        Assert.False(await new SqliteWebhookReplayStore(Path.Combine(_host.DataPath, "concurrent-requests.db"), TimeProvider.System).TryRememberAsync("id-199", signedAt));
    }

    [Fact]
    public void The_sandbox_signs_with_its_documented_default_secret()
    {
        Assert.Equal("entrasnow-sandbox-webhook-signing-secret", SandboxMode.SandboxWebhookSigningSecret);
        Assert.Equal(_host.BaseUrl, _host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ServiceNowEmulatorWebhookOptions>>().Value.BaseUrl);
    }
}
