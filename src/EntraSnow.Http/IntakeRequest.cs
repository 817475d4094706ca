using EntraSnow.Flows.Intake;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Http;

/// <summary>
/// The one sequence of answers every intake route gives: 400 for a wrong content type or a body that does not parse,
/// 413 for a body over 1 MB, 202 only once the queue write succeeded, 503 when it failed (the sender retries; dedupe
/// keys make the retry harmless). Parsing happens before anything is queued, so bad input leaves nothing behind.
/// </summary>
internal static class IntakeRequest
{
    public static async Task<IResult> AcceptAsync<T>(
        HttpRequest request,
        string[] mediaTypes,
        Func<byte[], T> parse,
        Func<T, string, Task> queue,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        if (!RequestBody.IsJson(request, mediaTypes))
        {
            return Problems.BadRequest($"Content-Type must be {string.Join(" or ", mediaTypes)}, not '{request.ContentType ?? "(none)"}'.");
        }

        var body = await RequestBody.ReadAsync(request, RequestBody.MaxBytes, cancellationToken);
        if (body is null)
        {
            return Problems.TooLarge(RequestBody.MaxBytes);
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
            return Problems.QueueUnavailable();
        }
    }
}
