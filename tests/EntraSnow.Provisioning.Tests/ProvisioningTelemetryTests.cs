using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;
using EntraSnow.Tests.Shared;

namespace EntraSnow.Provisioning.Tests;

/// <summary>
/// Every provisioning decision is counted by action and object kind, for the workbook's "decisions by action": the counts
/// match the provisioning log. The counter is process-wide and its tags are shared by every provisioning test, so this
/// class runs alone.
/// </summary>
[Collection(nameof(ProvisioningTelemetryTests))]
public sealed class ProvisioningTelemetryTests : IDisposable
{
    private readonly ProvisioningWorld _world = new();
    private readonly MetricRecorder _metrics = new(ProvisioningTelemetry.Name);

    public void Dispose() => _metrics.Dispose();

    [Fact]
    public async Task Each_decision_the_provisioning_log_records_is_counted_once_by_action_and_object_kind()
    {
        _world.AddUser("u1", "ada@contoso.com");
        var users = _world.UserHandler();
        await users.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1", messageId: "n-1"), CancellationToken.None);
        await users.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1", messageId: "n-2"), CancellationToken.None);
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", DisplayName = "Service Desk", MembersAdded = ["u1"] }], "link-1"));
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", "resync-1"), CancellationToken.None);

        var logged = _world.Log.Entries.GroupBy(e => (ProvisioningLogEntry.ActionName(e.Action), e.ObjectKind)).ToDictionary(g => g.Key, g => g.Count());
        var counted = _metrics.Of(ProvisioningTelemetry.DecisionsMetric)
            .GroupBy(m => ((string)m.Tags[ProvisioningTelemetry.ActionTag]!, (string)m.Tags[ProvisioningTelemetry.ObjectKindTag]!))
            .ToDictionary(g => g.Key, g => (int)g.Sum(m => m.Value));

        Assert.Equal(1, counted[("created", ProvisioningObjectKinds.User)]);
        Assert.Equal(1, counted[("unchanged", ProvisioningObjectKinds.User)]);
        Assert.Equal(1, counted[("created", ProvisioningObjectKinds.Group)]);
        Assert.Equal(logged.OrderBy(p => p.Key).ToList(), counted.OrderBy(p => p.Key).ToList());
    }
}

[CollectionDefinition(nameof(ProvisioningTelemetryTests), DisableParallelization = true)]
public sealed class ProvisioningTelemetryTestsCollection;
