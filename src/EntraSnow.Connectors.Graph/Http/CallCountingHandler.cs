using System.Net;

namespace EntraSnow.Connectors.Graph.Http;

/// <summary>Innermost handler: every request that reaches the wire is counted once.</summary>
internal sealed class CallCountingHandler(GraphCallCounter counter) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        counter.CountRequest();
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
        {
            counter.CountThrottled();
        }

        return response;
    }
}
