namespace EntraSnow.Flows.Messaging;

/// <summary>What a host must do with a message after processing: each host applies it with its own queue's verbs.</summary>
public abstract record MessageDisposition
{
    private MessageDisposition() { }

    public sealed record Complete : MessageDisposition
    {
        /// <summary>The connectors whose pause this message's success lifted: the work held for them can follow at once.</summary>
        public IReadOnlyList<string> Resumed { get; init; } = [];
    }

    /// <summary>Try again later, not now: Service Bus reschedules a copy, the local queue hides the message until then.</summary>
    /// <param name="WaitsFor">The paused connector the message waits for, when that is why it waits (no attempt counted).</param>
    public sealed record Reschedule(DateTimeOffset VisibleAt, int NextAttempt, string Reason, string? WaitsFor = null) : MessageDisposition;

    public sealed record DeadLetter(string Reason, string Description) : MessageDisposition;
}
