using System.Globalization;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// The last recorded state of one (group, member) pair and how many transitions it has had; <paramref name="IsGroup"/>
/// when the member is a nested group (so a removal found later names it as one).
/// </summary>
internal readonly record struct MembershipState(bool IsMember, int Transitions, bool IsGroup = false)
{
    /// <summary>The state this one was a transition from (each transition flips membership and counts one more); null for the first.</summary>
    public MembershipState? Before => Transitions <= 1 ? null : new MembershipState(!IsMember, Transitions - 1, IsGroup);

    /// <summary>The transition after this one.</summary>
    public MembershipState After => new(!IsMember, Transitions + 1, IsGroup);
}

/// <summary>
/// What the ledger holds about a (group, member) pair: the state last recorded and, while a change record is being
/// written, the transition under way.
/// </summary>
/// <param name="Recorded">The state last recorded; null for a pair never recorded.</param>
/// <param name="Pending">
/// The transition whose record was about to be written when the entry was saved. On the normal path the record is
/// created and the entry moves on to it at once; found still pending, a run died in between (before or after the
/// ServiceNow write), so only then is the record looked up by its correlation id.
/// </param>
/// <param name="PendingSummary">
/// When the pending transition was being counted in a run's summary record rather than a record of its own: that run
/// (<see cref="BulkChangeSummaries.RunHash"/>), whose summary is the record to look up.
/// </param>
internal readonly record struct MembershipEntry(MembershipState? Recorded, MembershipState? Pending, string? PendingSummary = null)
{
    /// <summary>Whether the member may be in the group: recorded so, or being recorded so.</summary>
    public bool MayBeMember => Recorded?.IsMember == true || Pending?.IsMember == true;
}

/// <summary>
/// A membership change EntraSnow is making itself (<paramref name="IsMember"/>: the state it moves to), the ticket it
/// does it for, and when it noted it.
/// </summary>
internal sealed record OwnChange(bool IsMember, string Ticket, DateTimeOffset At);

/// <summary>
/// The last membership state EntraSnow recorded per (group, member), kept in the checkpoint store. A change record is
/// written only when the observed state differs from the recorded one, so replayed deltas and redelivered messages never
/// record a change twice. The transition is noted as pending before its record is created: a run that died between the
/// ServiceNow write and the ledger's (the only case where the record may exist unrecorded) leaves the note, and only such
/// a transition is looked up by its correlation id; every other one costs its create alone.
/// </summary>
internal sealed class MembershipLedger(ICheckpointStore checkpoints)
{
    /// <summary>Set once the first full reading of the groups has been recorded: later readings record changes.</summary>
    public const string BaselineKey = "groupchanges:baseline";

    // States written together by SetManyAsync: one SQLite transaction, ten Table storage transactions.
    private const int BatchSize = 1_000;

    /// <summary>The pair's entry; both states null for a pair never recorded.</summary>
    public async Task<MembershipEntry> GetAsync(string groupId, string memberId, CancellationToken cancellationToken) =>
        await checkpoints.GetAsync(Key(groupId, memberId), cancellationToken) is { } value ? Parse(value) : default;

    /// <summary>Records <paramref name="state"/> as where the pair stands (a pending transition is done with).</summary>
    public Task SetAsync(string groupId, string memberId, MembershipState state, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(Key(groupId, memberId), Format(state), cancellationToken);

    /// <summary>Records where many members of the group stand at once (a baseline), in batches the store writes together.</summary>
    public async Task SetManyAsync(string groupId, IEnumerable<(string MemberId, MembershipState State)> members, CancellationToken cancellationToken)
    {
        foreach (var chunk in members.Chunk(BatchSize))
        {
            await checkpoints.SetManyAsync([.. chunk.Select(m => KeyValuePair.Create(Key(groupId, m.MemberId), Format(m.State)))], cancellationToken);
        }
    }

    /// <summary>
    /// Notes, before its record is created, that the pair is moving to <paramref name="next"/> (one transition after the
    /// recorded state): a run that finds the note knows the record may exist already.
    /// </summary>
    public Task SetPendingAsync(string groupId, string memberId, MembershipState next, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(Key(groupId, memberId), Format(next) + PendingMark, cancellationToken);

    /// <summary>
    /// Notes, before a summary record counting them is created or brought up to date, that these members of the group are
    /// moving to their next state in the summary of run <paramref name="summaryRun"/>: a run that finds the notes (the same
    /// run after retention deleted its tally, or a run that replaced it) looks that summary up instead of counting the
    /// members in a summary of its own. Written in batches, as a baseline is.
    /// </summary>
    public async Task SetPendingInSummaryAsync(string groupId, IEnumerable<(string MemberId, MembershipState Next)> members, string summaryRun,
        CancellationToken cancellationToken)
    {
        foreach (var chunk in members.Chunk(BatchSize))
        {
            await checkpoints.SetManyAsync([.. chunk.Select(m => KeyValuePair.Create(Key(groupId, m.MemberId), Format(m.Next) + PendingMark + SummaryMark + summaryRun))],
                cancellationToken);
        }
    }

    /// <summary>Forgets a pending transition whose record was never written: the pair stands where it was recorded.</summary>
    public Task ForgetPendingAsync(string groupId, string memberId, MembershipEntry entry, CancellationToken cancellationToken) =>
        entry.Recorded is { } recorded
            ? SetAsync(groupId, memberId, recorded, cancellationToken)
            : checkpoints.DeleteAsync(Key(groupId, memberId), cancellationToken);

    /// <summary>Every member recorded for the group, in key order, read as a stream (the store never hands over a group whole).</summary>
    public async IAsyncEnumerable<(string MemberId, MembershipEntry Entry)> MembersAsync(string groupId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var checkpoint in checkpoints.ListAsync($"{KeyPrefix}{groupId.ToLowerInvariant()}:", cancellationToken))
        {
            if (Pair(KeyPrefix, checkpoint.Key) is { } pair && Parse(checkpoint.Value) is { } entry && (entry.Recorded is not null || entry.Pending is not null))
            {
                yield return (pair.MemberId, entry);
            }
        }
    }

    public async Task<bool> HasBaselineAsync(CancellationToken cancellationToken) =>
        await checkpoints.GetAsync(BaselineKey, cancellationToken) is not null;

    public Task SetBaselineAsync(DateTimeOffset at, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(BaselineKey, at.ToString("O", CultureInfo.InvariantCulture), cancellationToken);

    /// <summary>
    /// Notes, before EntraSnow writes to Entra, that the coming change of this pair is its own, done for
    /// <paramref name="change"/>'s ticket: the delta that reports it then links it to the ticket instead of recording it
    /// as unexplained (or, in a sensitive group, removing the member again). One note per direction, so a removal still
    /// waiting for its delta and the re-add that follows it explain one transition each.
    /// </summary>
    public Task MarkOwnChangeAsync(string groupId, string memberId, OwnChange change, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(OwnKey(groupId, memberId, change.IsMember),
            $"{change.At.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}:{change.Ticket}", cancellationToken);

    /// <summary>The change to <paramref name="isMember"/> EntraSnow noted it is making to this pair, if any.</summary>
    public async Task<OwnChange?> GetOwnChangeAsync(string groupId, string memberId, bool isMember, CancellationToken cancellationToken) =>
        await checkpoints.GetAsync(OwnKey(groupId, memberId, isMember), cancellationToken) is { } value ? ParseOwn(isMember, value) : null;

    /// <summary>Every change EntraSnow noted it is making to the group's members, read as a stream (usually none).</summary>
    public async IAsyncEnumerable<(string MemberId, OwnChange Change)> OwnChangesAsync(string groupId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var checkpoint in checkpoints.ListAsync($"{OwnKeyPrefix}{groupId.ToLowerInvariant()}:", cancellationToken))
        {
            if (Pair(OwnKeyPrefix, checkpoint.Key) is { } pair && ParseOwn(checkpoint.Key.EndsWith(":in", StringComparison.Ordinal), checkpoint.Value) is { } change)
            {
                yield return (pair.MemberId, change);
            }
        }
    }

    /// <summary>When an own-change note was written (null for a value that is not one).</summary>
    internal static DateTimeOffset? OwnChangeNotedAt(string value) => ParseOwn(true, value)?.At;

    private static OwnChange? ParseOwn(bool isMember, string value) =>
        value.Split(':', 2) is [var at, { Length: > 0 } ticket] && long.TryParse(at, CultureInfo.InvariantCulture, out var seconds)
            ? new OwnChange(isMember, ticket, DateTimeOffset.FromUnixTimeSeconds(seconds))
            : null;

    /// <summary>Forgets the note once the transition it explains was recorded, or when the change it announced did not happen.</summary>
    public Task ClearOwnChangeAsync(string groupId, string memberId, bool isMember, CancellationToken cancellationToken) =>
        checkpoints.DeleteAsync(OwnKey(groupId, memberId, isMember), cancellationToken);

    internal const string OwnKeyPrefix = "groupmember-own:";

    internal static string OwnKey(string groupId, string memberId, bool isMember) =>
        $"{OwnKeyPrefix}{groupId.ToLowerInvariant()}:{memberId.ToLowerInvariant()}:{(isMember ? "in" : "out")}";

    internal const string KeyPrefix = "groupmember:";

    /// <summary>The prefixes of every key the ledger keeps about a (group, member) pair.</summary>
    internal static IReadOnlyList<string> PairKeyPrefixes { get; } = [KeyPrefix, OwnKeyPrefix];

    internal static string Key(string groupId, string memberId) =>
        $"{KeyPrefix}{groupId.ToLowerInvariant()}:{memberId.ToLowerInvariant()}";

    /// <summary>The (group, member) a key of <paramref name="prefix"/> is about, or null for another key.</summary>
    internal static (string GroupId, string MemberId)? Pair(string prefix, string key) =>
        key.StartsWith(prefix, StringComparison.Ordinal) && key[prefix.Length..].Split(':') is { Length: 2 or 3 } parts
        && (parts.Length == 2 || parts[2] is "in" or "out") // an own-change note names its direction last
            ? (parts[0], parts[1])
            : null;

    // Written after the count for a nested group: entries of users (and those written before kinds were kept) have none.
    private const string GroupMark = ":group";

    // Written last while the transition the entry names is pending: the recorded state is the one before it.
    private const string PendingMark = ":pending";

    // Written after the pending mark, with the run's hash, when the transition is counted in that run's summary record.
    private const string SummaryMark = ":summary-";

    private static string Format(MembershipState state) =>
        $"{(state.IsMember ? "in" : "out")}:{state.Transitions.ToString(CultureInfo.InvariantCulture)}{(state.IsGroup ? GroupMark : string.Empty)}";

    private static MembershipEntry Parse(string value)
    {
        string? summary = null;
        if (value.IndexOf(PendingMark + SummaryMark, StringComparison.Ordinal) is >= 0 and var mark)
        {
            summary = value[(mark + PendingMark.Length + SummaryMark.Length)..];
            value = value[..(mark + PendingMark.Length)];
        }

        var pending = value.EndsWith(PendingMark, StringComparison.Ordinal);
        var parts = (pending ? value[..^PendingMark.Length] : value).Split(':');
        if (parts.Length is not (2 or 3) || parts[0] is not ("in" or "out") || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var n))
        {
            return default;
        }

        var state = new MembershipState(parts[0] == "in", n, parts.Length == 3 && parts[2] == "group");
        return pending ? new MembershipEntry(state.Before, state, summary) : new MembershipEntry(state, null);
    }
}
