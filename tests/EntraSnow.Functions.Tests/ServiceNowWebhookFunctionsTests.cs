using System.Globalization;
using System.Text;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Functions.ServiceNow;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Functions.Tests;

/// <summary>The ServiceNow webhook functions as the Functions host calls them, over the app's own composition.</summary>
public sealed class ServiceNowWebhookFunctionsTests : IDisposable
{
    private const string Secret = "a-webhook-signing-secret-from-key-vault";
    private const string Body = """
        {"table":"sc_req_item","sys_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","number":"RITM0010001",
         "requested_for":"0123456789abcdef0123456789abcdef","requested_by":"0123456789abcdef0123456789abcdef",
         "group":"fedcba9876543210fedcba9876543210","action":"add"}
        """;

    private readonly IMessageQueue _queue = Substitute.For<IMessageQueue>();
    private readonly IWebhookReplayStore _replays = Substitute.For<IWebhookReplayStore>();
    private readonly ServiceProvider _provider;

    public ServiceNowWebhookFunctionsTests()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(FunctionsCompositionTests.AzureSettings()).Build();
        var services = new ServiceCollection().AddLogging().AddProblemDetails();
        services.AddEntraSnowFunctions(configuration);
        services.AddSingleton(_queue);
        services.AddSingleton(_replays);
        _provider = services.BuildServiceProvider();
        _replays.TryRememberAsync(Arg.Any<string>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns(true, false);
    }

    public void Dispose() => _provider.Dispose();

    private async Task<int> Post(Func<ServiceNowWebhookFunctions, HttpRequest, Task<IResult>> function, string secret, string json = Body)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var context = new DefaultHttpContext { RequestServices = _provider };
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(body);
        context.Request.Headers[WebhookSignature.TimestampHeader] = timestamp;
        context.Request.Headers[WebhookSignature.RequestIdHeader] = "req-1";
        context.Request.Headers[WebhookSignature.SignatureHeader] = WebhookSignature.Compute(secret, timestamp, body);
        context.Response.Body = new MemoryStream();

        var result = await function(_provider.GetRequiredService<ServiceNowWebhookFunctions>(), context.Request);
        await result.ExecuteAsync(context);
        return context.Response.StatusCode;
    }

    [Fact]
    public async Task A_signed_access_request_is_queued_before_the_function_answers_202_and_its_replay_is_refused()
    {
        var first = await Post((f, r) => f.AccessRequest(r, CancellationToken.None), Secret);
        var replay = await Post((f, r) => f.AccessRequest(r, CancellationToken.None), Secret);

        Assert.Equal(202, first);
        Assert.Equal(401, replay);
        await _queue.Received(1).SendAsync(QueueNames.AccessRequests, Arg.Any<IReadOnlyList<ChangeMessage>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_signed_change_decision_is_queued_on_access_requests_before_the_function_answers_202()
    {
        const string decision = """{"table":"change_request","sys_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","number":"CHG0010001","approval":"rejected"}""";

        var status = await Post((f, r) => f.ChangeDecision(r, CancellationToken.None), Secret, decision);

        Assert.Equal(202, status);
        await _queue.Received(1).SendAsync(QueueNames.AccessRequests,
            Arg.Is<IReadOnlyList<ChangeMessage>>(m => m.Single().Kind == MessageKinds.ChangeDecision), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_password_reset_signed_with_another_secret_is_refused_401_and_nothing_queued()
    {
        var status = await Post((f, r) => f.PasswordReset(r, CancellationToken.None), "someone-elses-secret-0123456789abcdef");

        Assert.Equal(401, status);
        await _queue.DidNotReceiveWithAnyArgs().SendAsync(default!, default!, default);
    }
}
