namespace EntraSnow.Flows.CatalogTickets;

/// <summary>
/// A catalog ticket as read back from ServiceNow, checked against what the webhook said. The consumers act on this,
/// never on the webhook body alone.
/// </summary>
public sealed record CatalogTicket(
    string Table,
    string SysId,
    string Number,
    string RequestedFor,
    string RequestedBy,
    string Approval,
    bool Closed,
    IReadOnlyDictionary<string, string?> Fields)
{
    /// <summary>Where the ticket disagrees with the request that pointed at it (the request is then refused); null when they agree.</summary>
    public string? Discrepancy { get; init; }
}

/// <summary>ServiceNow's task states the consumers write.</summary>
public static class TicketStates
{
    public const string ClosedComplete = "3";
    public const string ClosedIncomplete = "4";
    public const string ClosedSkipped = "7";

    public static bool IsClosed(string? state) => state is ClosedComplete or ClosedIncomplete or ClosedSkipped;
}

/// <summary>Why a request was refused: written to the ticket as a work note, with the ticket closed incomplete.</summary>
public sealed class RequestRefusedException(string reason) : Exception(reason)
{
    public string Reason { get; } = reason;
}
