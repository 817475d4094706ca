using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// What this process may ask of the ServiceNow instance, shared by every flow: at most
/// <see cref="ServiceNowOptions.MaxConcurrency"/> Table API requests in flight (the rest wait in line, oldest first), and
/// a pace that follows the instance's rate-limit answers. A 429's Retry-After holds every caller, not only the one that
/// met it. When the hour's requests run low (X-RateLimit-Remaining if an answer carries it; otherwise X-RateLimit-Limit
/// less the requests this process sent since the window of X-RateLimit-Reset began), what is left is spread evenly until
/// the reset, so the instance is slowed down before it answers 429; none left means waiting for the reset. A wait longer
/// than <see cref="ServiceNowOptions.RetryAfterPatience"/> is not waited: the call fails at once with
/// <see cref="ServiceNowRateLimitedException"/> carrying the wait, so a queued message is rescheduled, not held.
/// Consumers ask <see cref="WaitForRoomAsync"/> before taking a message, so none is locked while the budget is spent.
/// </summary>
public sealed class ServiceNowRequestBudget
{
    private readonly ServiceNowOptions _options;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private readonly LinkedList<TaskCompletionSource> _line = new();
    private TaskCompletionSource _roomChanged = NewSignal();
    private int _inFlight;
    private int _peakInFlight;
    private DateTimeOffset _pausedUntil = DateTimeOffset.MinValue;
    private DateTimeOffset _nextStart = DateTimeOffset.MinValue;
    private RateWindow? _window;

    public ServiceNowRequestBudget(IOptions<ServiceNowOptions> options, TimeProvider clock)
    {
        _options = options.Value;
        _clock = clock;
    }

    /// <summary>Requests allowed in flight at once.</summary>
    public int Capacity => _options.MaxConcurrency;

    /// <summary>Requests holding a place now (on the wire, or about to be sent at their paced time).</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>The most requests held at once since start.</summary>
    public int PeakInFlight
    {
        get
        {
            lock (_gate)
            {
                return _peakInFlight;
            }
        }
    }

    /// <summary>Requests waiting in line for a place.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _line.Count;
            }
        }
    }

    /// <summary>Until when every request waits (a 429's Retry-After, or the hour's requests used up); null when not paused.</summary>
    public DateTimeOffset? PausedUntil
    {
        get
        {
            lock (_gate)
            {
                return _pausedUntil > _clock.GetUtcNow() ? _pausedUntil : null;
            }
        }
    }

    /// <summary>
    /// Completes when taking more work would be useful: not paused, and fewer callers waiting in line than the budget
    /// holds. A consumer calls it before receiving a message, so a message is not locked while its calls could not run.
    /// </summary>
    public async Task WaitForRoomAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            TimeSpan pause;
            lock (_gate)
            {
                pause = _pausedUntil - _clock.GetUtcNow();
                if (pause <= TimeSpan.Zero && _line.Count < Capacity)
                {
                    return;
                }

                changed = _roomChanged.Task;
            }

            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, _clock, cancellationToken);
            }
            else
            {
                await changed.WaitAsync(cancellationToken);
            }
        }
    }

    /// <summary>
    /// Takes a place for one request (waiting in line), then waits for its turn (a pause, or the pace when the hour's
    /// requests run low). Dispose the lease when the answer has been read.
    /// </summary>
    public async ValueTask<IDisposable> AcquireAsync(CancellationToken cancellationToken = default)
    {
        await TakePlaceAsync(cancellationToken);
        try
        {
            await WaitForTurnAsync(cancellationToken);
            return new Lease(this);
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>Reads an answer's rate-limit headers (every attempt's, 429s included) and adjusts the pace.</summary>
    public void Observe(HttpResponseMessage response)
    {
        var now = _clock.GetUtcNow();
        var limit = IntHeader(response, "X-RateLimit-Limit");
        var reset = IntHeader(response, "X-RateLimit-Reset");
        var remaining = IntHeader(response, "X-RateLimit-Remaining");
        lock (_gate)
        {
            if (limit is > 0 && reset is { } resetSeconds)
            {
                var resetAt = DateTimeOffset.FromUnixTimeSeconds(resetSeconds);
                if (_window is null || _window.ResetAt != resetAt)
                {
                    _window = new RateWindow(resetAt, (int)limit.Value);
                }

                _window.Used++;
                _window.ReportedRemaining = remaining is { } r ? (int)Math.Max(0, r) : null;
            }

            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var wait = ServiceNowResilience.RetryAfter(response)
                    ?? (_window is { } w && w.ResetAt > now ? w.ResetAt - now : _options.RetryBaseDelay);
                // The instance's own word on when to come back: every caller waits for it, then the count resumes.
                if (now + wait > _pausedUntil)
                {
                    _pausedUntil = now + wait;
                }
            }
        }
    }

    private Task TakePlaceAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        LinkedListNode<TaskCompletionSource> node;
        lock (_gate)
        {
            if (_inFlight < Capacity && _line.Count == 0)
            {
                CountIn();
                return Task.CompletedTask;
            }

            if (_line.Count >= _options.ConcurrencyQueueLimit)
            {
                throw new ServiceNowUnreachableException(
                    $"ServiceNow could not be reached: too many requests queued ({_line.Count} waiting for the {Capacity} in flight allowed).");
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _line.AddLast(waiter);
        }

        if (!cancellationToken.CanBeCanceled)
        {
            return waiter.Task;
        }

        var registration = cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                // Still in line: leave it. Already handed a place: the caller owns it and releases it on cancellation.
                if (node.List is not null)
                {
                    _line.Remove(node);
                    waiter.TrySetCanceled(cancellationToken);
                    SignalRoom();
                }
            }
        });
        return waiter.Task.ContinueWith(
            t =>
            {
                registration.Dispose();
                return t;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default).Unwrap();
    }

    private async Task WaitForTurnAsync(CancellationToken cancellationToken)
    {
        var paced = false;
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                var now = _clock.GetUtcNow();
                if (_pausedUntil > now)
                {
                    wait = _pausedUntil - now;
                }
                else if (paced)
                {
                    return;
                }
                else if (_window is { } window && window.ResetAt > now && window.Remaining <= SlowdownAt(window))
                {
                    if (window.Remaining <= 0)
                    {
                        _pausedUntil = window.ResetAt;
                        wait = window.ResetAt - now;
                    }
                    else
                    {
                        // What is left, spread evenly until the reset: each caller books the next start time.
                        var start = _nextStart > now ? _nextStart : now;
                        wait = start - now;
                        if (wait <= _options.RetryAfterPatience)
                        {
                            _nextStart = start + (window.ResetAt - now) / window.Remaining;
                            paced = true;
                        }
                    }
                }
                else
                {
                    return;
                }
            }

            if (!paced && wait > _options.RetryAfterPatience)
            {
                throw new ServiceNowRateLimitedException(
                    string.Create(CultureInfo.InvariantCulture, $"ServiceNow's rate limit holds every request for {wait.TotalSeconds:F0} s, longer than the connector's patience."),
                    wait);
            }

            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _clock, cancellationToken);
            }
        }
    }

    private int SlowdownAt(RateWindow window) =>
        Math.Max(Capacity, (int)Math.Ceiling(window.Limit * _options.RateLimitSlowdownAt));

    private void Release()
    {
        lock (_gate)
        {
            while (_line.First is { } next)
            {
                _line.RemoveFirst();
                if (next.Value.TrySetResult())
                {
                    SignalRoom();
                    return; // the place passes to the next in line
                }
            }

            _inFlight--;
            SignalRoom();
        }
    }

    private void CountIn()
    {
        _inFlight++;
        if (_inFlight > _peakInFlight)
        {
            _peakInFlight = _inFlight;
        }
    }

    private void SignalRoom()
    {
        var changed = _roomChanged;
        _roomChanged = NewSignal();
        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static long? IntHeader(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>One hourly window of the instance's rule, as this process sees it.</summary>
    private sealed class RateWindow(DateTimeOffset resetAt, int limit)
    {
        public DateTimeOffset ResetAt { get; } = resetAt;

        public int Limit { get; } = limit;

        /// <summary>Answers seen in this window that carried the rule's headers.</summary>
        public int Used { get; set; }

        public int? ReportedRemaining { get; set; }

        public int Remaining => ReportedRemaining ?? Limit - Used;
    }

    private sealed class Lease(ServiceNowRequestBudget budget) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                budget.Release();
            }
        }
    }
}
