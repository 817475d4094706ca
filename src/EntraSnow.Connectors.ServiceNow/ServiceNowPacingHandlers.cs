namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// The outermost handler of the Table API client: a call takes its place in the shared <see cref="ServiceNowRequestBudget"/>
/// before the resilience pipeline runs, and keeps it through its retries until the answer is read.
/// </summary>
internal sealed class ServiceNowBudgetHandler(ServiceNowRequestBudget budget) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var lease = await budget.AcquireAsync(cancellationToken);
        var response = await base.SendAsync(request, cancellationToken);
        // The body is part of the request as the instance sees it: read it before the place is given up.
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        return response;
    }
}

/// <summary>Inside the retries: every attempt's answer tells the budget what the instance's rate-limit headers say.</summary>
internal sealed class ServiceNowRateLimitObserver(ServiceNowRequestBudget budget) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        budget.Observe(response);
        return response;
    }
}
