using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Flows.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.ServiceNowWebhooks;

/// <summary>
/// The ServiceNow app's webhook sender (servicenow/src/server/script-includes/entrasnow-webhook.js), run under Node by
/// servicenow/test/webhook-harness.js with stand-ins for the platform APIs, against EntraSnow's own verifier and body
/// parser: what the shipped app sends is what EntraSnow accepts.
/// </summary>
public sealed class ServiceNowAppContractTests
{
    private const string Secret = "contract-signing-secret-0f9e8d7c6b5a4938";
    private const string Item = "4c1d7e9a2b3f4a5c8d6e0f1a2b3c4d5e";
    private const string Requester = "9a8b7c6d5e4f40312a1b0c9d8e7f6a5b";
    private const string Manager = "1f2e3d4c5b6a40798a7b6c5d4e3f2a1b";
    private const string Group = "7d6c5b4a39284716a5b4c3d2e1f0a9b8";
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 9, 30, 0, TimeSpan.Zero);

    private sealed record SentWebhook(string Endpoint, string Method, string ContentType, WebhookHeaders Headers, byte[] Body);

    private static object Ticket(string number) => new
    {
        table = "sc_req_item",
        sys_id = Item,
        number,
        requested_for = Requester,
        requested_by = Manager,
    };

    /// <summary>Runs the shipped sender under Node and answers the request it would have put on the wire.</summary>
    private static async Task<SentWebhook> SendThroughTheApp(string kind, object payload, string secret = Secret)
    {
        var input = JsonSerializer.Serialize(new { secret, url = "https://entrasnow.example/", kind, now = Now.ToUnixTimeSeconds(), payload });
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ServiceNowApp", "test", "webhook-harness.js"));
        start.ArgumentList.Add(input);

        using var node = Process.Start(start) ?? throw new InvalidOperationException("node could not be started.");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(node.ExitCode == 0, $"the harness failed: {await stderr}");
        var sent = JsonNode.Parse(await stdout)!;
        var headers = sent["headers"]!;
        Assert.True(sent["result"]!["ok"]!.GetValue<bool>());
        return new SentWebhook(
            sent["endpoint"]!.GetValue<string>(),
            sent["method"]!.GetValue<string>(),
            headers["Content-Type"]!.GetValue<string>(),
            new WebhookHeaders(
                headers[WebhookSignature.TimestampHeader]?.GetValue<string>(),
                headers[WebhookSignature.RequestIdHeader]?.GetValue<string>(),
                headers[WebhookSignature.SignatureHeader]?.GetValue<string>()),
            Encoding.UTF8.GetBytes(sent["body"]!.GetValue<string>()));
    }

    private static WebhookVerifier Verifier() => new(
        Options.Create(new ServiceNowWebhookOptions { SigningSecret = Secret }),
        new InMemoryWebhookReplayStore(),
        new FakeTimeProvider(Now),
        NullLogger<WebhookVerifier>.Instance);

    [Fact]
    public async Task A_password_reset_sent_by_the_app_is_accepted_and_reads_as_the_ticket_it_points_at()
    {
        var sent = await SendThroughTheApp("passwordReset", Ticket("RITM0010001"));

        var verdict = await Verifier().VerifyAsync(sent.Headers, sent.Body, CancellationToken.None);
        var request = CatalogRequest.Parse(CatalogRequestKind.PasswordReset, sent.Body);

        Assert.True(verdict.Accepted, verdict.Refusal);
        Assert.Equal(Now, verdict.SignedAt);
        Assert.Equal("https://entrasnow.example/api/servicenow/password-reset", sent.Endpoint);
        Assert.Equal("POST", sent.Method);
        Assert.StartsWith("application/json", sent.ContentType, StringComparison.Ordinal);
        Assert.Equal(new CatalogRequest(CatalogRequestKind.PasswordReset, "sc_req_item", Item, "RITM0010001", Requester, Manager), request);
    }

    [Fact]
    public async Task An_access_request_sent_by_the_app_is_accepted_with_its_group_and_action()
    {
        var payload = JsonSerializer.SerializeToNode(Ticket("RITM0010002"))!.AsObject();
        payload["group"] = Group;
        payload["action"] = "remove";

        var sent = await SendThroughTheApp("accessRequest", payload);

        var verdict = await Verifier().VerifyAsync(sent.Headers, sent.Body, CancellationToken.None);
        var request = CatalogRequest.Parse(CatalogRequestKind.AccessRequest, sent.Body);
        Assert.True(verdict.Accepted, verdict.Refusal);
        Assert.Equal("https://entrasnow.example/api/servicenow/access-request", sent.Endpoint);
        Assert.Equal(Group, request.Group);
        Assert.Equal(CatalogRequest.Remove, request.Action);
    }

    [Fact]
    public async Task A_change_decision_sent_by_the_app_is_accepted_and_reads_as_the_change_and_its_approval()
    {
        var sent = await SendThroughTheApp("changeDecision", new { table = "change_request", sys_id = Item, number = "CHG0010001", approval = "rejected" });

        var verdict = await Verifier().VerifyAsync(sent.Headers, sent.Body, CancellationToken.None);

        Assert.True(verdict.Accepted, verdict.Refusal);
        Assert.Equal("https://entrasnow.example/api/servicenow/change-decision", sent.Endpoint);
        Assert.Equal(new ChangeDecision(Item, "CHG0010001", ChangeDecision.Rejected), ChangeDecision.Parse(sent.Body));
    }

    [Fact]
    public async Task A_body_changed_after_the_app_signed_it_is_refused()
    {
        var sent = await SendThroughTheApp("passwordReset", Ticket("RITM0010003"));
        var changed = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(sent.Body).Replace(Requester, Manager, StringComparison.Ordinal));

        var verdict = await Verifier().VerifyAsync(sent.Headers, changed, CancellationToken.None);

        Assert.NotEqual(sent.Body, changed);
        Assert.False(verdict.Accepted);
        Assert.Contains(WebhookSignature.SignatureHeader, verdict.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_the_app_signed_with_another_secret_is_refused()
    {
        var sent = await SendThroughTheApp("passwordReset", Ticket("RITM0010004"), secret: "some-other-signing-secret-1234567890abc");

        var verdict = await Verifier().VerifyAsync(sent.Headers, sent.Body, CancellationToken.None);

        Assert.False(verdict.Accepted);
    }

    [Fact]
    public async Task Every_send_carries_a_new_request_id_so_a_resubmitted_ticket_is_not_taken_for_a_replay()
    {
        var verifier = Verifier();
        var first = await SendThroughTheApp("passwordReset", Ticket("RITM0010005"));
        var second = await SendThroughTheApp("passwordReset", Ticket("RITM0010005"));

        Assert.NotEqual(first.Headers.RequestId, second.Headers.RequestId);
        Assert.True((await verifier.VerifyAsync(first.Headers, first.Body, CancellationToken.None)).Accepted);
        Assert.True((await verifier.VerifyAsync(second.Headers, second.Body, CancellationToken.None)).Accepted);
        Assert.False((await verifier.VerifyAsync(first.Headers, first.Body, CancellationToken.None)).Accepted);
    }

    [Fact]
    public async Task Text_outside_ASCII_is_escaped_so_the_bytes_sent_are_the_bytes_signed()
    {
        var payload = JsonSerializer.SerializeToNode(Ticket("RITM0010006"))!.AsObject();
        payload["comment"] = "Zoë Ångström – 東京";

        var sent = await SendThroughTheApp("passwordReset", payload);

        var verdict = await Verifier().VerifyAsync(sent.Headers, sent.Body, CancellationToken.None);
        Assert.True(verdict.Accepted, verdict.Refusal);
        Assert.All(sent.Body, b => Assert.True(b < 0x80));
        Assert.Equal("Zoë Ångström – 東京", JsonNode.Parse(sent.Body)!["comment"]!.GetValue<string>());
    }
}
