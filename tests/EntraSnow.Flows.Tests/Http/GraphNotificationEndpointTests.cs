using EntraSnow.Tests.Shared;
using System.Text;
using System.Text.Json;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Tests.Support;
using EntraSnow.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace EntraSnow.Flows.Tests.Http;

public sealed class GraphNotificationEndpointTests : IDisposable
{
    private readonly IntakeFactory _factory = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();

    public void Dispose()
    {
        _factory.Dispose();
        _services.Dispose();
    }

    private async Task<(int Status, string ContentType, string Body, HttpResponse Response)> Post(string? query, string? contentType, byte[] body)
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.Method = "POST";
        context.Request.Path = "/api/graph/notifications";
        context.Request.QueryString = query is null ? QueryString.Empty : new QueryString(query);
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        context.Response.Body = new MemoryStream();
        var endpoint = new GraphNotificationEndpoint(_factory.Intake, NullLogger<GraphNotificationEndpoint>.Instance);

        var result = await endpoint.HandleAsync(context.Request, CancellationToken.None);
        await result.ExecuteAsync(context);

        context.Response.Body.Position = 0;
        var text = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return (context.Response.StatusCode, context.Response.ContentType ?? "", text, context.Response);
    }

    [Fact]
    public async Task Validation_handshake_echoes_the_decoded_token_as_plain_text()
    {
        var (status, contentType, body, response) = await Post(
            "?validationToken=Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+3a2ae9f6-63b5-4a6e-8d0f-2d1f3c1f9a11",
            "text/plain; charset=utf-8", []);

        Assert.Equal(200, status);
        Assert.StartsWith("text/plain", contentType, StringComparison.Ordinal);
        Assert.Equal("Validation: Testing client application reachability for subscription Request-Id: 3a2ae9f6-63b5-4a6e-8d0f-2d1f3c1f9a11", body);
        Assert.Equal("nosniff", response.Headers.XContentTypeOptions.ToString());
    }

    [Fact]
    public async Task Handshake_token_with_markup_is_returned_as_text_never_as_html()
    {
        var (status, contentType, body, _) = await Post("?validationToken=%3Cscript%3Ealert(1)%3C%2Fscript%3E", null, []);

        Assert.Equal(200, status);
        Assert.DoesNotContain("html", contentType, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("<script>alert(1)</script>", body);
    }

    [Theory]
    [InlineData("?validationToken=a%0Db")]
    [InlineData("?validationToken=")]
    public async Task Absurd_handshake_token_is_refused(string query)
    {
        var (status, contentType, _, _) = await Post(query, null, []);

        Assert.Equal(400, status);
        Assert.Equal("application/problem+json", contentType);
    }

    [Fact]
    public async Task Handshake_token_over_1_KB_is_refused()
    {
        var (status, _, _, _) = await Post("?validationToken=" + new string('a', 1025), null, []);

        Assert.Equal(400, status);
    }

    [Fact]
    public async Task Notification_collection_is_acknowledged_202_once_queued()
    {
        var (status, _, _, _) = await Post(null, "application/json; charset=utf-8", Samples.GraphSampleBytes("user-updated.json"));

        Assert.Equal(202, status);
        Assert.Single(_factory.Sent);
    }

    [Theory]
    [InlineData("text/plain", "{\"value\":[]}", "Content-Type")]
    [InlineData(null, "{\"value\":[]}", "Content-Type")]
    [InlineData("application/json", "{\"value\":[", "not valid JSON")]
    [InlineData("application/json", "{\"items\":[]}", "'value'")]
    public async Task Bad_input_gets_a_400_problem_that_says_what_is_wrong_and_queues_nothing(string? contentType, string body, string expectedDetail)
    {
        var (status, responseType, text, _) = await Post(null, contentType, Encoding.UTF8.GetBytes(body));

        Assert.Equal(400, status);
        Assert.Equal("application/problem+json", responseType);
        using var problem = JsonDocument.Parse(text);
        Assert.Contains(expectedDetail, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(_factory.Sent);
    }

    [Fact]
    public async Task Body_over_1_MB_is_refused_with_413()
    {
        var huge = Encoding.UTF8.GetBytes("{\"value\":[" + new string(' ', 1024 * 1024) + "]}");

        var (status, contentType, _, _) = await Post(null, "application/json", huge);

        Assert.Equal(413, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Empty(_factory.Sent);
    }

    [Fact]
    public async Task Queue_failure_answers_503_so_Graph_retries()
    {
        _factory.Queue.SendAsync(Arg.Any<string>(), Arg.Any<IReadOnlyList<ChangeMessage>>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new IOException("database is locked")));

        var (status, _, text, _) = await Post(null, "application/json", Samples.GraphSampleBytes("user-updated.json"));

        Assert.Equal(503, status);
        Assert.DoesNotContain("database is locked", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collection_whose_items_all_fail_the_client_state_check_is_still_acknowledged_but_nothing_is_queued()
    {
        var body = Samples.GraphSample("user-updated.json").Replace(Samples.ClientState, "forged", StringComparison.Ordinal);

        var (status, _, _, _) = await Post(null, "application/json", Encoding.UTF8.GetBytes(body));

        Assert.Equal(202, status);
        Assert.Empty(_factory.Sent);
    }
}
