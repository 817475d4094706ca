using EntraSnow.Flows.Intake;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Http;

/// <summary>
/// The one sequence of answers every intake route gives: 400 for a wrong content type or a body that does not parse,
/// 413 for a body over the limit (1 MB unless given), 401 when an authentication step refuses the raw body, 202 only
/// once the queue write succeeded, 503 when it failed (the sender retries; dedupe keys make the retry harmless).
/// Parsing happens before anything is queued, so bad input leaves nothing behind.
/// </summary>
internal static class IntakeRequest
{
    /// <summary>Checks the raw body before it is parsed: null to go on, else why it is refused (401).</summary>
    public delegate Task<string?> Authenticate(byte[] body);

    public static async Task<IResult> AcceptAsync<T>(
        HttpRequest request,
        string[] mediaTypes,
        Func<byte[], T> parse,
        Func<T, string, Task> queue,
        ILogger logger,
        CancellationToken cancellationToken,
        long maxBytes = RequestBody.MaxBytes,
        Authenticate? authenticate = null,
        Func<Task>? onQueueFailure = null)
    {
        if (!RequestBody.IsJson(request, mediaTypes))
        {
            return Problems.BadRequest($"Content-Type must be {string.Join(" or ", mediaTypes)}, not '{request.ContentType ?? "(none)"}'.");
        }

        var body = await RequestBody.ReadAsync(request, maxBytes, cancellationToken);
        if (body is null)
        {
            return Problems.TooLarge(maxBytes);
        }

        if (authenticate is not null && await authenticate(body) is { } refusal)
        {
            return Problems.Unauthorized(refusal);
        }

        T parsed;
        try
        {
            parsed = parse(body);
        }
        catch (NotificationFormatException ex)
        {
            return Problems.BadRequest(ex.Message);
        }

        var correlationId = CorrelationId.From(request);
        try
        {
            await queue(parsed, correlationId);
            return Results.Accepted();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Could not queue intake request {CorrelationId} on {Path}", correlationId, request.Path);
            if (onQueueFailure is not null)
            {
                await onQueueFailure();
            }

            return Problems.QueueUnavailable();
        }
    }
}
