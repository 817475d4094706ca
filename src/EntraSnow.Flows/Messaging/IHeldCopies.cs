namespace EntraSnow.Flows.Messaging;

/// <summary>
/// A message held for a paused connector as a host that cannot bring a waiting message forward keeps it: a copy
/// scheduled for the connector's next probe (Service Bus: a scheduled message, <paramref name="SequenceNumber"/> to
/// cancel it by). <paramref name="Message"/> is the held copy itself.
/// </summary>
public sealed record HeldCopy(string Connector, string Queue, ChangeMessage Message, long SequenceNumber);

/// <summary>
/// The record of held copies that lets such a host release them at once when the pause lifts, never losing or doubling
/// one: a release sends a new copy before it cancels the held one, and whichever of the two is delivered first takes
/// the record and is processed; the other, if it comes, is not. The local host brings its own messages forward and
/// needs none.
/// </summary>
public interface IHeldCopies
{
    /// <summary>The held copy's id with <c>~released</c>: the id of the copy a release sends in its place.</summary>
    const string ReleasedSuffix = "~released";

    /// <summary>The message property a held copy and its released copy carry: the connector it was held for.</summary>
    const string HeldForProperty = "heldFor";

    Task RecordAsync(HeldCopy copy, CancellationToken cancellationToken = default);

    /// <summary>
    /// Up to <paramref name="max"/> copies held for the connector that no release has finished, each claimed for this
    /// caller (a copy already delivered, or claimed by another release in the last minute, is not returned).
    /// </summary>
    Task<IReadOnlyList<HeldCopy>> ClaimForReleaseAsync(string connector, int max, CancellationToken cancellationToken = default);

    /// <summary>The release sent the copy's replacement; <paramref name="cancelled"/>: the held copy will never be delivered.</summary>
    Task ReleasedAsync(HeldCopy copy, bool cancelled, CancellationToken cancellationToken = default);

    /// <summary>
    /// A delivered copy of the held message <paramref name="holdId"/> (the held copy itself, or its replacement when
    /// <paramref name="replacement"/>): true when it is the one to process, false when another copy was taken first.
    /// <paramref name="delivery"/> names this delivered message alone (Service Bus: its sequence number), the same
    /// when it is delivered again, so a redelivery is still processed.
    /// </summary>
    Task<bool> TakeAsync(string connector, string holdId, string delivery, bool replacement, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the records last written before <paramref name="before"/> and returns how many went: retention's cutoff
    /// for dead letters, so neither copy of such a record can still be delivered or replayed (a copy held again while
    /// its connector stays paused rewrites its record and is kept). A record outlives its copies when neither is ever
    /// delivered (both expired and their dead letters were purged).
    /// </summary>
    Task<int> ForgetOlderThanAsync(DateTimeOffset before, CancellationToken cancellationToken = default);
}
