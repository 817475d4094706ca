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

        if (!RequestBody.IsJson(request, "application/json"))
        {
            return Problems.BadRequest($"Content-Type must be application/json, not '{request.ContentType ?? "(none)"}'.");
        }

        var body = await RequestBody.ReadAsync(request, RequestBody.MaxBytes, cancellationToken);
        if (body is null)
        {
            return Problems.TooLarge(RequestBody.MaxBytes);
        }

        IReadOnlyList<ChangeNotification> notifications;
        try
        {
            notifications = NotificationParser.ParseCollection(body);
        }
        catch (NotificationFormatException ex)
        {
            return Problems.BadRequest(ex.Message);
        }

        var correlationId = CorrelationId.From(request);
        try
        {
            var result = await intake.AcceptAsync(notifications, correlationId, cancellationToken);
            logger.LogDebug("Notification collection {CorrelationId}: {Queued} queued, {Rejected} rejected, {Dropped} dropped",
                correlationId, result.Queued, result.RejectedClientState, result.Dropped);
            return Results.Accepted();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // 5xx makes Graph retry the whole collection; the dedupe keys make the retry harmless.
            logger.LogError(ex, "Could not queue notification collection {CorrelationId}", correlationId);
            return Problems.QueueUnavailable();
        }
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
