using EntraSnow.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.ServiceNow;

/// <summary>
/// Catalog requests and change decisions from ServiceNow into their queues. Anonymous at the Functions level: every request is checked
/// against the webhook signing secret, its time window and the replay store instead.
/// </summary>
internal sealed class ServiceNowWebhookFunctions(ServiceNowWebhookEndpoint endpoint)
{
    [Function("ServiceNowPasswordReset")]
    public Task<IResult> PasswordReset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "servicenow/password-reset")] HttpRequest request,
        CancellationToken cancellationToken) =>
        endpoint.PasswordResetAsync(request, cancellationToken);

    [Function("ServiceNowAccessRequest")]
    public Task<IResult> AccessRequest(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "servicenow/access-request")] HttpRequest request,
        CancellationToken cancellationToken) =>
        endpoint.AccessRequestAsync(request, cancellationToken);

    [Function("ServiceNowChangeDecision")]
    public Task<IResult> ChangeDecision(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "servicenow/change-decision")] HttpRequest request,
        CancellationToken cancellationToken) =>
        endpoint.ChangeDecisionAsync(request, cancellationToken);
}
