namespace EntraSnow.Flows.ServiceNowWebhooks;

/// <summary>
/// Request ids already accepted, kept durably until their signature could no longer pass the time window, so a
/// captured request sent again is refused. SQLite in the local host, Azure Table storage in Azure.
/// </summary>
public interface IWebhookReplayStore
{
    /// <summary>
    /// Records <paramref name="requestId"/> (signed at <paramref name="signedAt"/>) unless it is already recorded.
    /// Atomic: of two concurrent calls with one id, exactly one returns true.
    /// </summary>
    /// <returns>true when the id is new; false for a replay.</returns>
    Task<bool> TryRememberAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default);

    /// <summary>Forgets an id whose request could not be queued, so the sender's retry of it is not taken for a replay.</summary>
    Task ForgetAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the ids whose signature could no longer pass the time window at <paramref name="now"/>: their replay is
    /// refused by its stale timestamp alone. Returns how many went.
    /// </summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default);
}
