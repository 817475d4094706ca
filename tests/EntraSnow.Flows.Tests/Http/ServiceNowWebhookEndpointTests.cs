using System.Globalization;
using System.Text;
using System.Text.Json;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Flows.Tests.Support;
using EntraSnow.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.Http;

public sealed class ServiceNowWebhookEndpointTests : IDisposable
{
    private const string Secret = "the-current-signing-secret-0123456789";
    private const string TicketSysId = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    private const string UserSysId = "0123456789abcdef0123456789abcdef";
    private const string GroupSysId = "fedcba9876543210fedcba9876543210";

    private readonly ServiceProvider _services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 3, 0, 0, TimeSpan.Zero));
    private readonly InMemoryWebhookReplayStore _replays = new();
    private readonly IMessageQueue _queue = Substitute.For<IMessageQueue>();
    private readonly List<(string Queue, ChangeMessage Message)> _sent = [];

    public ServiceNowWebhookEndpointTests()
    {
        _queue.SendAsync(Arg.Any<string>(), Arg.Any<IReadOnlyList<ChangeMessage>>(), Arg.Any<CancellationToken>())
            .Returns(Task.CompletedTask)
            .AndDoes(call => _sent.AddRange(call.ArgAt<IReadOnlyList<ChangeMessage>>(1).Select(m => (call.ArgAt<string>(0), m))));
    }

    public void Dispose() => _services.Dispose();

    private static string PasswordResetBody => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["table"] = "sc_req_item", ["sys_id"] = TicketSysId, ["number"] = "RITM0010001",
        ["requested_for"] = UserSysId, ["requested_by"] = UserSysId,
    });

    private async Task<(int Status, string ContentType, string Body)> Post(string path, byte[] body, Action<HttpRequest>? sign = null, string contentType = "application/json")
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        context.Response.Body = new MemoryStream();
        sign?.Invoke(context.Request);
        var verifier = new WebhookVerifier(Options.Create(new ServiceNowWebhookOptions { SigningSecret = Secret }), _replays, _clock, NullLogger<WebhookVerifier>.Instance);
        var endpoint = new ServiceNowWebhookEndpoint(verifier, new ServiceNowWebhookIntake(_queue, _clock, NullLogger<ServiceNowWebhookIntake>.Instance),
            NullLogger<ServiceNowWebhookEndpoint>.Instance);

        var result = path.EndsWith("password-reset", StringComparison.Ordinal) ? await endpoint.PasswordResetAsync(context.Request, CancellationToken.None)
            : path.EndsWith("change-decision", StringComparison.Ordinal) ? await endpoint.ChangeDecisionAsync(context.Request, CancellationToken.None)
            : await endpoint.AccessRequestAsync(context.Request, CancellationToken.None);
        await result.ExecuteAsync(context);

        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, context.Response.ContentType ?? "", await new StreamReader(context.Response.Body).ReadToEndAsync());
    }

    private Action<HttpRequest> SignedBy(byte[] body, string requestId = "req-1", string secret = Secret) => request =>
    {
        var timestamp = _clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        request.Headers[WebhookSignature.TimestampHeader] = timestamp;
        request.Headers[WebhookSignature.RequestIdHeader] = requestId;
        request.Headers[WebhookSignature.SignatureHeader] = WebhookSignature.Compute(secret, timestamp, body);
    };

    [Fact]
    public async Task A_signed_password_reset_is_queued_with_the_ticket_pointers_only()
    {
        var body = Encoding.UTF8.GetBytes(PasswordResetBody);

        var (status, _, _) = await Post("/api/servicenow/password-reset", body, SignedBy(body));

        Assert.Equal(202, status);
        var (queue, message) = Assert.Single(_sent);
        Assert.Equal(QueueNames.PasswordResets, queue);
        Assert.Equal(MessageKinds.PasswordReset, message.Kind);
        Assert.Equal(TicketSysId, message.SubjectId);
        Assert.Equal(UserSysId, message.SessionKey);
        Assert.Equal("RITM0010001", message.Property("number"));
        Assert.Equal("sc_req_item", message.Property("table"));
        Assert.Equal("req-1", message.Property("request_id"));
        Assert.DoesNotContain(message.Properties.Values, v => v.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_signed_access_request_is_queued_with_its_group_and_action()
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["table"] = "sc_req_item", ["sys_id"] = TicketSysId, ["number"] = "RITM0010002",
            ["requested_for"] = UserSysId, ["requested_by"] = UserSysId, ["group"] = GroupSysId, ["action"] = "remove",
        }));

        var (status, _, _) = await Post("/api/servicenow/access-request", body, SignedBy(body));

        Assert.Equal(202, status);
        var (queue, message) = Assert.Single(_sent);
        Assert.Equal(QueueNames.AccessRequests, queue);
        Assert.Equal(GroupSysId, message.Property("group"));
        Assert.Equal("remove", message.Property("action"));
    }

    [Fact]
    public async Task A_signed_change_decision_is_queued_on_access_requests_as_its_own_kind()
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["table"] = "change_request", ["sys_id"] = TicketSysId, ["number"] = "CHG0010001", ["approval"] = "approved",
        }));

        var (status, _, _) = await Post("/api/servicenow/change-decision", body, SignedBy(body));

        Assert.Equal(202, status);
        var (queue, message) = Assert.Single(_sent);
        Assert.Equal(QueueNames.AccessRequests, queue);
        Assert.Equal(MessageKinds.ChangeDecision, message.Kind);
        Assert.Equal(TicketSysId, message.SubjectId);
        Assert.Equal(("CHG0010001", "approved"), (message.Property("number"), message.Property("approval")));
    }

    [Theory]
    [InlineData("sc_req_item", "approved")]
    [InlineData("change_request", "maybe")]
    public async Task A_signed_change_decision_that_is_not_one_is_refused_400_and_nothing_queued(string table, string approval)
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["table"] = table, ["sys_id"] = TicketSysId, ["number"] = "CHG0010001", ["approval"] = approval,
        }));

        var (status, _, _) = await Post("/api/servicenow/change-decision", body, SignedBy(body));

        Assert.Equal(400, status);
        Assert.Empty(_sent);
    }

    [Fact]
    public async Task An_unsigned_change_decision_is_refused_401_and_nothing_queued()
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["table"] = "change_request", ["sys_id"] = TicketSysId, ["number"] = "CHG0010001", ["approval"] = "approved",
        }));

        var (status, _, _) = await Post("/api/servicenow/change-decision", body);

        Assert.Equal(401, status);
        Assert.Empty(_sent);
    }

    [Fact]
    public async Task An_unsigned_request_is_refused_401_problem_json_and_nothing_queued()
    {
        var body = Encoding.UTF8.GetBytes(PasswordResetBody);

        var (status, contentType, text) = await Post("/api/servicenow/password-reset", body);

        Assert.Equal(401, status);
        Assert.StartsWith("application/problem+json", contentType, StringComparison.Ordinal);
        Assert.Contains("X-EntraSnow-Signature", text, StringComparison.Ordinal);
        Assert.Empty(_sent);
    }

    [Fact]
    public async Task A_replayed_request_is_refused_401_and_queued_only_once()
    {
        var body = Encoding.UTF8.GetBytes(PasswordResetBody);
        await Post("/api/servicenow/password-reset", body, SignedBy(body));

        var (status, _, text) = await Post("/api/servicenow/password-reset", body, SignedBy(body));

        Assert.Equal(401, status);
        Assert.Contains("replay", text, StringComparison.Ordinal);
        Assert.Single(_sent);
    }

    [Fact]
    public async Task A_request_signed_with_another_secret_is_refused_401()
    {
        var body = Encoding.UTF8.GetBytes(PasswordResetBody);

        var (status, _, _) = await Post("/api/servicenow/password-reset", body, SignedBy(body, secret: "someone-elses-secret-0123456789abcdef"));

        Assert.Equal(401, status);
        Assert.Empty(_sent);
    }

    [Theory]
    [InlineData("""{"table":"incident","sys_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","number":"INC1","requested_for":"0123456789abcdef0123456789abcdef","requested_by":"0123456789abcdef0123456789abcdef"}""")]
    [InlineData("""{"table":"sc_req_item","sys_id":"not-a-sys-id","number":"RITM1","requested_for":"0123456789abcdef0123456789abcdef","requested_by":"0123456789abcdef0123456789abcdef"}""")]
    [InlineData("""{"table":"sc_req_item","sys_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","number":"RITM1","requested_by":"0123456789abcdef0123456789abcdef"}""")]
    [InlineData("""[1,2,3]""")]
    [InlineData("""{"table":""")]
    public async Task A_signed_but_malformed_body_is_refused_400_and_nothing_queued(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);

        var (status, contentType, _) = await Post("/api/servicenow/password-reset", body, SignedBy(body));

        Assert.Equal(400, status);
        Assert.StartsWith("application/problem+json", contentType, StringComparison.Ordinal);
        Assert.Empty(_sent);
    }

    [Fact]
    public async Task An_access_request_without_a_group_is_refused_400()
    {
        var body = Encoding.UTF8.GetBytes(PasswordResetBody);

        var (status, _, text) = await Post("/api/servicenow/access-request", body, SignedBy(body));

        Assert.Equal(400, status);
        Assert.Contains("group", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_64_KB_is_refused_413_before_anything_else()
    {
        var body = new byte[ServiceNowWebhookEndpoint.MaxBodyBytes + 1];

        var (status, _, _) = await Post("/api/servicenow/password-reset", body, SignedBy(body));

        Assert.Equal(413, status);
        Assert.Empty(_replays.Remembered);
    }

    [Fact]
    public async Task When_the_queue_fails_the_answer_is_503_and_the_sender_may_retry_the_same_request()
    {
        var body = Encoding.UTF8.GetBytes(PasswordResetBody);
        _queue.SendAsync(Arg.Any<string>(), Arg.Any<IReadOnlyList<ChangeMessage>>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new IOException("disk full")), Task.CompletedTask);

        var (failed, _, _) = await Post("/api/servicenow/password-reset", body, SignedBy(body));
        var (retried, _, _) = await Post("/api/servicenow/password-reset", body, SignedBy(body));

        Assert.Equal(503, failed);
        Assert.Equal(202, retried);
    }
}
