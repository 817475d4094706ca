using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Connectors.Graph.Http;

/// <summary>
/// Waits out 429/503/504 answers: for Retry-After when Graph sends one, with exponential backoff and jitter when it does not
/// (Identity Protection's 429s carry none). Replaces the SDK's RetryHandler so the wait runs on the injected
/// <see cref="TimeProvider"/> and a wait longer than <see cref="GraphOptions.MaxRetryWait"/> is handed back to the
/// caller (who reschedules) instead of holding a worker.
/// </summary>
internal sealed class ThrottlingHandler(IOptions<GraphOptions> options, TimeProvider clock, ILogger<ThrottlingHandler> logger)
    : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (request.Content is not null)
        {
            // Buffered once, the body can be sent again on a retry.
            await request.Content.LoadIntoBufferAsync(cancellationToken);
        }

        for (var attempt = 0; ; attempt++)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (!IsRetryable(response.StatusCode) || attempt >= settings.MaxRetries)
            {
                return response;
            }

            var wait = RetryAfter(response, clock) ?? Backoff(settings, attempt);
            if (wait > settings.MaxRetryWait)
            {
                return response;
            }

            logger.LogInformation("Graph answered {Status} to {Method} {Path}; retrying in {Wait} (attempt {Attempt})",
                (int)response.StatusCode, request.Method, request.RequestUri?.AbsolutePath, wait, attempt + 1);
            response.Dispose();
            await Task.Delay(wait, clock, cancellationToken);
        }
    }

    /// <summary>
    /// Doubling from <see cref="GraphOptions.BackoffBase"/>, stretched by a random share up to <see cref="GraphOptions.BackoffJitter"/>
    /// so instances throttled together (Identity Protection counts every app in the tenant) do not come back together.
    /// </summary>
    internal static TimeSpan Backoff(GraphOptions settings, int attempt) =>
        settings.BackoffBase * Math.Pow(2, attempt) * (1 + (settings.BackoffJitter * Random.Shared.NextDouble()));

    internal static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    internal static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider clock)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - clock.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}
