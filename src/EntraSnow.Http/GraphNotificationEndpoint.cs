using EntraSnow.Flows.Intake;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Http;

/// <summary>
/// POST /api/graph/notifications and /api/graph/lifecycle, identical on both hosts: the validation handshake,
/// then notification collections, answered 202 only once every accepted item is durably queued.
/// </summary>
public sealed class GraphNotificationEndpoint(GraphNotificationIntake intake, ILogger<GraphNotificationEndpoint> logger)
{
    /// <summary>Graph's tokens are short; anything over this is not from Graph.</summary>
    public const int MaxValidationTokenLength = 1024;

    public async Task<IResult> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.Query.TryGetValue("validationToken", out var tokens))
        {
            return Handshake(request, tokens.ToString());
        }

        return await IntakeRequest.AcceptAsync(
            request,
            ["application/json"],
            body => NotificationParser.ParseCollection(body),
            async (notifications, correlationId) =>
            {
                var result = await intake.AcceptAsync(notifications, correlationId, cancellationToken);
                logger.LogDebug("Notification collection {CorrelationId}: {Queued} queued, {Rejected} rejected, {Dropped} dropped",
                    correlationId, result.Queued, result.RejectedClientState, result.Dropped);
            },
            logger,
            cancellationToken);
    }

    private static IResult Handshake(HttpRequest request, string token)
    {
        if (token.Length == 0 || token.Length > MaxValidationTokenLength)
        {
            return Problems.BadRequest($"validationToken must be 1 to {MaxValidationTokenLength} characters long.");
        }

        if (token.Any(char.IsControl))
        {
            return Problems.BadRequest("validationToken must not contain control characters.");
        }

        // text/plain plus nosniff: the token is echoed as data, never rendered as HTML.
        request.HttpContext.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Text(token, "text/plain; charset=utf-8", statusCode: StatusCodes.Status200OK);
    }
}
