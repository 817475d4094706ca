namespace EntraSnow.Flows.Messaging;

/// <summary>
/// A consumer of one queue. Handlers check idempotency first: the same message may arrive more than once,
/// late, or out of order. Throw <see cref="TransientFailureException"/> for what may pass (outages, throttling)
/// and <see cref="PermanentFailureException"/> for what never will (bad data, a missing reference under the fail policy).
/// </summary>
public interface IMessageHandler
{
    string Queue { get; }

    Task HandleAsync(ChangeMessage message, CancellationToken cancellationToken);
}

/// <summary>A failure that may pass: retried with backoff, then rescheduled with a growing delay.</summary>
public class TransientFailureException : Exception
{
    public TransientFailureException(string message, Exception? inner = null, TimeSpan? retryAfter = null)
        : base(message, inner) => RetryAfter = retryAfter;

    /// <summary>How long the other side asked us to wait, when it said.</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>A failure that retrying cannot fix: the message is dead-lettered with this reason.</summary>
public class PermanentFailureException : Exception
{
    public PermanentFailureException(string reason, Exception? inner = null)
        : base(reason, inner) { }
}
