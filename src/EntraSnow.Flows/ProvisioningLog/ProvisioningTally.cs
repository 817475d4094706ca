namespace EntraSnow.Flows.ProvisioningLog;

/// <summary>
/// Folds a run's entries, one at a time as a store reads them, into its <see cref="ProvisioningSummary"/>. Per object it
/// keeps only the decisive action so far and its time (a reason only for a failure or a conflict), never the entries:
/// a store that cannot count where the entries are streams them through this instead of listing them.
/// </summary>
public sealed class ProvisioningTally
{
    private readonly Dictionary<(string Kind, string Subject), Decisive> _objects = [];

    public void Add(string objectKind, string subjectId, ProvisioningAction action, DateTimeOffset at, string? reason)
    {
        var key = (objectKind, subjectId);
        if (!_objects.TryGetValue(key, out var current) || ProvisioningSummary.Supersedes(action, at, current.Action, current.At))
        {
            _objects[key] = new Decisive(action, at, action is ProvisioningAction.Failed or ProvisioningAction.Conflict ? reason : null);
        }
    }

    public ProvisioningSummary ToSummary() => ProvisioningSummary.FromCounts(
        _objects.GroupBy(o => (o.Key.Kind, o.Value.Action)).Select(g => (g.Key.Kind, g.Key.Action, g.Count())),
        _objects.Where(o => o.Value.Action is ProvisioningAction.Failed or ProvisioningAction.Conflict)
            .OrderBy(o => o.Value.At)
            .Select(o => (o.Key.Subject, o.Key.Kind, o.Value.Action, o.Value.Reason)));

    private readonly record struct Decisive(ProvisioningAction Action, DateTimeOffset At, string? Reason);
}
