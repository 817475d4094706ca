using EntraSnow.Flows.ServiceNowWebhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Http;

/// <summary>
/// POST /api/servicenow/password-reset, /api/servicenow/access-request and /api/servicenow/change-decision, identical
/// on both hosts: a body of at most 64 KB (413), signed by ServiceNow and never seen before (401 problem+json otherwise,
/// nothing queued), a body that parses (400), then 202 once queued.
/// </summary>
public sealed class ServiceNowWebhookEndpoint(WebhookVerifier verifier, ServiceNowWebhookIntake intake, ILogger<ServiceNowWebhookEndpoint> logger)
{
    public const int MaxBodyBytes = 64 * 1024;

    public Task<IResult> PasswordResetAsync(HttpRequest request, CancellationToken cancellationToken) =>
        HandleAsync(request, CatalogRequestKind.PasswordReset, cancellationToken);

    public Task<IResult> AccessRequestAsync(HttpRequest request, CancellationToken cancellationToken) =>
        HandleAsync(request, CatalogRequestKind.AccessRequest, cancellationToken);

    /// <summary>ServiceNow's approval or rejection of a change EntraSnow opened for a sensitive group.</summary>
    public Task<IResult> ChangeDecisionAsync(HttpRequest request, CancellationToken cancellationToken) =>
        HandleAsync(request, body => ChangeDecision.Parse(body), (decision, requestId, correlationId) => intake.AcceptAsync(decision, requestId, correlationId, cancellationToken), cancellationToken);

    private Task<IResult> HandleAsync(HttpRequest request, CatalogRequestKind kind, CancellationToken cancellationToken) =>
        HandleAsync(request, body => CatalogRequest.Parse(kind, body),
            (catalogRequest, requestId, correlationId) => intake.AcceptAsync(catalogRequest, requestId, correlationId, cancellationToken), cancellationToken);

    private async Task<IResult> HandleAsync<T>(HttpRequest request, Func<byte[], T> parse, Func<T, string, string, Task> accept, CancellationToken cancellationToken)
    {
        var verdict = WebhookVerdict.Refuse("not verified");
        return await IntakeRequest.AcceptAsync(
            request,
            ["application/json"],
            parse,
            (parsed, correlationId) => accept(parsed, verdict.RequestId, correlationId),
            logger,
            cancellationToken,
            MaxBodyBytes,
            authenticate: async body =>
            {
                verdict = await verifier.VerifyAsync(HeadersOf(request), body, cancellationToken);
                return verdict.Refusal;
            },
            onQueueFailure: () => verifier.ReleaseAsync(verdict, CancellationToken.None));
    }

    public static WebhookHeaders HeadersOf(HttpRequest request) => new(
        request.Headers[WebhookSignature.TimestampHeader].ToString(),
        request.Headers[WebhookSignature.RequestIdHeader].ToString(),
        request.Headers[WebhookSignature.SignatureHeader].ToString());
}
