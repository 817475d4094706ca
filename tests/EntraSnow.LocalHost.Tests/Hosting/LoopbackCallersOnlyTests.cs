using System.Net;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Hosting;

/// <summary>
/// The control routes another local process calls (a command telling the serving host it queued or replayed work) carry
/// no secret, so they answer this machine only. Tests talk only to loopback, so the other machine's call is made in
/// process, through the route exactly as the host mapped it, with the caller's address set.
/// </summary>
public sealed class LoopbackCallersOnlyTests
{
    [Theory]
    [InlineData(WorkQueuedElsewhere.Route)]
    [InlineData(ReplayedDeadLetters.Route)]
    public async Task A_control_route_refuses_a_caller_from_another_machine_and_serves_one_on_this_machine(string route)
    {
        await using var host = await LocalHostHarness.StartEmptyAsync();
        var endpoint = host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Single(e => e.RoutePattern.RawText == route && e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(HttpMethods.Post) == true);

        var fromElsewhere = await CallAsync(host, endpoint, IPAddress.Parse("192.0.2.10"));
        var fromElsewhereOverIPv6 = await CallAsync(host, endpoint, IPAddress.Parse("2001:db8::10"));
        var noAddress = await CallAsync(host, endpoint, caller: null);
        using var overLoopback = await host.Client.PostAsync(new Uri(new Uri(host.BaseUrl), route), content: null);

        Assert.Equal(StatusCodes.Status403Forbidden, fromElsewhere);
        Assert.Equal(StatusCodes.Status403Forbidden, fromElsewhereOverIPv6);
        Assert.Equal(StatusCodes.Status403Forbidden, noAddress);
        Assert.Equal(HttpStatusCode.NoContent, overLoopback.StatusCode);
    }

    private static async Task<int> CallAsync(LocalHostHarness host, RouteEndpoint endpoint, IPAddress? caller)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = endpoint.RoutePattern.RawText;
        context.Connection.RemoteIpAddress = caller;
        context.Response.Body = Stream.Null;
        await endpoint.RequestDelegate!(context);
        return context.Response.StatusCode;
    }
}
