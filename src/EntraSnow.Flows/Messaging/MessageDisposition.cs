namespace EntraSnow.Flows.Messaging;

/// <summary>What a host must do with a message after processing: each host applies it with its own queue's verbs.</summary>
public abstract record MessageDisposition
{
    private MessageDisposition() { }

    public sealed record Complete : MessageDisposition;

    /// <summary>Try again later, not now: Service Bus reschedules a copy, the local queue hides the message until then.</summary>
    public sealed record Reschedule(DateTimeOffset VisibleAt, int NextAttempt, string Reason) : MessageDisposition;

    public sealed record DeadLetter(string Reason, string Description) : MessageDisposition;
}
