namespace EntraSnow.Flows.Messaging;

/// <summary>
/// The envelope every queue carries (DESIGN.md). It is a signal, not the truth: consumers fetch current state.
/// Secrets (passwords, passes, client states) never travel in it.
/// </summary>
public sealed record ChangeMessage
{
    /// <summary>Stable across redeliveries and retries of the same change: the dedupe key.</summary>
    public required string MessageId { get; init; }

    /// <summary>Messages with one session key are processed one at a time (the object id).</summary>
    public required string SessionKey { get; init; }

    public required string Kind { get; init; }

    public required string TenantId { get; init; }

    /// <summary>The Entra object (user, group, subscription, ticket) the message is about.</summary>
    public required string SubjectId { get; init; }

    public required DateTimeOffset ChangedAt { get; init; }

    public required string CorrelationId { get; init; }

    /// <summary>How many times processing has been attempted before this delivery (0 on first delivery).</summary>
    public int Attempt { get; init; }

    /// <summary>Small non-secret facts a consumer needs (e.g. subscription id, ticket number).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = EmptyProperties;

    private static readonly IReadOnlyDictionary<string, string> EmptyProperties = new Dictionary<string, string>();

    public string? Property(string name) => Properties.TryGetValue(name, out var value) ? value : null;
}
