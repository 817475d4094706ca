using System.Diagnostics.Metrics;

namespace EntraSnow.Flows.ProvisioningLog;

/// <summary>
/// The provisioning decisions as a counter (Meter <c>EntraSnow.Provisioning</c>), by action and object kind: the Azure
/// Monitor workbook's "decisions by action" reads it, while the provisioning log itself stays in Table storage, where the
/// workbook cannot query. The names are held to the workbook by a test.
/// </summary>
public static class ProvisioningTelemetry
{
    public const string Name = "EntraSnow.Provisioning";

    public const string DecisionsMetric = "entrasnow.provisioning.decisions";

    /// <summary>The action in the provisioning log's words (<see cref="ProvisioningLogEntry.ActionName"/>: created, failed…).</summary>
    public const string ActionTag = "action";

    /// <summary><see cref="ProvisioningObjectKinds.User"/> or <see cref="ProvisioningObjectKinds.Group"/>.</summary>
    public const string ObjectKindTag = "object_kind";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Decisions = Meter.CreateCounter<long>(
        DecisionsMetric, description: "Provisioning decisions, by action (created, adopted, updated, unchanged, deactivated, skipped, conflict, failed) and object kind.");

    public static void Decided(ProvisioningAction action, string objectKind) =>
        Decisions.Add(1, new KeyValuePair<string, object?>(ActionTag, ProvisioningLogEntry.ActionName(action)),
            new KeyValuePair<string, object?>(ObjectKindTag, objectKind));
}
