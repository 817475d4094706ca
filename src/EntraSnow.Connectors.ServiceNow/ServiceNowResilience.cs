using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// The Polly 8 pipeline around every Table API call (inside the shared <see cref="ServiceNowRequestBudget"/>), outermost
/// first: retries (429 waits for Retry-After within a patience budget; 5xx and timeouts back off exponentially with
/// jitter), a circuit breaker, and a per-attempt timeout.
/// </summary>
internal static class ServiceNowResilience
{
    private static readonly ResiliencePropertyKey<TimeSpan> WaitedForRateLimit = new("EntraSnow.ServiceNow.WaitedForRateLimit");
    private static readonly ResiliencePropertyKey<int> FailedAttempts = new("EntraSnow.ServiceNow.FailedAttempts");

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, ServiceNowOptions options, TimeProvider timeProvider)
    {
        builder.TimeProvider = timeProvider;
        builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            // The real limits are enforced in ShouldRetry: a failure budget for 5xx/timeouts and a time budget for 429s.
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryBaseDelay,
            MaxDelay = TimeSpan.FromSeconds(30),
            ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context, options)),
            DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
        });
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            FailureRatio = options.CircuitBreakerFailureRatio,
            MinimumThroughput = options.CircuitBreakerMinimumThroughput,
            SamplingDuration = options.CircuitBreakerSamplingDuration,
            BreakDuration = options.CircuitBreakerBreakDuration,
            ShouldHandle = args => ValueTask.FromResult(IsInstanceFailure(args.Outcome)),
        });
        if (options.AttemptTimeout > TimeSpan.Zero)
        {
            builder.AddTimeout(options.AttemptTimeout);
        }
    }

    /// <summary>5xx, no connection, or no answer in time: the instance is in trouble (429 is not; it is an answer).</summary>
    internal static bool IsInstanceFailure(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode >= 500,
        _ => false,
    };

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, ServiceNowOptions options)
    {
        if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } throttled)
        {
            // 429 means the request was not processed, so even a POST is safe to send again.
            var wait = RetryAfter(throttled) ?? options.RetryBaseDelay;
            var waited = context.Properties.GetValue(WaitedForRateLimit, TimeSpan.Zero) + wait;
            if (waited > options.RetryAfterPatience)
            {
                return false;
            }

            context.Properties.Set(WaitedForRateLimit, waited);
            return true;
        }

        if (!IsInstanceFailure(outcome))
        {
            return false;
        }

        // A POST that failed after it was sent may have created the record: no blind resend. The caller's upsert
        // finds it on the next try instead. A POST that never got a connection is safe to resend.
        var method = context.GetRequestMessage()?.Method;
        var neverSent = outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };
        if (method == HttpMethod.Post && !neverSent)
        {
            return false;
        }

        var failures = context.Properties.GetValue(FailedAttempts, 0) + 1;
        context.Properties.Set(FailedAttempts, failures);
        return failures <= options.MaxRetryAttempts;
    }

    /// <summary>The wait a 429 asked for (Retry-After in seconds or as a date); null means "use the backoff".</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        if (response is not { StatusCode: HttpStatusCode.TooManyRequests } || response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        if (retryAfter.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (retryAfter.Date is { } date && response.Headers.Date is { } now)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    internal static bool IsPipelineRejection(Exception exception) =>
        exception is BrokenCircuitException or IsolatedCircuitException or TimeoutRejectedException;
}
