using System.Globalization;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Flows.Groups;

/// <summary>The last recorded state of one (group, member) pair and how many transitions it has had.</summary>
internal readonly record struct MembershipState(bool IsMember, int Transitions);

/// <summary>
/// The last membership state EntraSnow recorded per (group, member), kept in the checkpoint store. A change record is
/// written only when the observed state differs from the recorded one, so replayed deltas, redelivered messages and a
/// run that died after its ServiceNow write (the record is found by its correlation id) never record a change twice.
/// </summary>
internal sealed class MembershipLedger(ICheckpointStore checkpoints)
{
    /// <summary>Set once the first full reading of the groups has been recorded: later readings record changes.</summary>
    public const string BaselineKey = "groupchanges:baseline";

    public async Task<MembershipState?> GetAsync(string groupId, string memberId, CancellationToken cancellationToken) =>
        await checkpoints.GetAsync(Key(groupId, memberId), cancellationToken) is { } value && Parse(value) is { } state ? state : null;

    public Task SetAsync(string groupId, string memberId, MembershipState state, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(Key(groupId, memberId), $"{(state.IsMember ? "in" : "out")}:{state.Transitions.ToString(CultureInfo.InvariantCulture)}", cancellationToken);

    public async Task<bool> HasBaselineAsync(CancellationToken cancellationToken) =>
        await checkpoints.GetAsync(BaselineKey, cancellationToken) is not null;

    public Task SetBaselineAsync(DateTimeOffset at, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(BaselineKey, at.ToString("O", CultureInfo.InvariantCulture), cancellationToken);

    internal static string Key(string groupId, string memberId) =>
        $"groupmember:{groupId.ToLowerInvariant()}:{memberId.ToLowerInvariant()}";

    private static MembershipState? Parse(string value)
    {
        var parts = value.Split(':');
        return parts.Length == 2 && parts[0] is "in" or "out" && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var n)
            ? new MembershipState(parts[0] == "in", n)
            : null;
    }
}
