using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Groups;

/// <summary>
/// Graph publishes a membership change's audit entry minutes after the change. Through the local host against both
/// emulators, in virtual time: the change record is written at once saying "actor not read", and five minutes later
/// the audit log is read again and the record names who made the change, with one work note, however often the
/// follow-up is delivered.
/// </summary>
public sealed class LateActorEndToEndTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_audit_entry_published_after_the_record_is_added_to_it_once()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await LocalHostHarness.StartEmptyAsync(new Dictionary<string, string?>
        {
            ["Sandbox:Graph:DirectoryAuditPublicationLag"] = "00:04:00",
            ["GroupChanges:ActorFollowUpDelay"] = "00:05:00",
        }, clock);
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        var checkpoints = host.Services.GetRequiredService<ICheckpointStore>();
        var groupId = await graph.CreateGroupAsync("Finance-Approvers");
        var userId = await graph.CreateUserAsync("Adele Vance", "adele@contoso.example");
        await host.Queues.SendAsync(QueueNames.UserChanges, [Message(MessageKinds.UserSync, userId, userId)]);
        await host.Queues.SendAsync(QueueNames.GroupChanges, [Message(MessageKinds.GroupDeltaResync, groupId, GroupChangesHandler.DeltaSessionKey)]);
        await Eventually.AssertAsync(async () => await checkpoints.GetAsync(MembershipLedger.BaselineKey) is not null
            && serviceNow.Query("sys_user", $"u_entra_object_id={userId}").Count == 1, "the groups' first reading and the user provisioned", Patience);
        IReadOnlyList<IReadOnlyDictionary<string, string>> Records() => serviceNow.Query("change_request", $"correlation_idSTARTSWITHentra-group:{groupId}");
        async Task<QueueStats> GroupChanges() => (await host.Queues.GetStatsAsync()).Single(s => s.Queue == QueueNames.GroupChanges);

        await graph.AddGroupMemberAsync(groupId, userId, AuditInitiator.User("it.admin@contoso.example"));
        await host.Queues.SendAsync(QueueNames.GroupChanges, [Message(MessageKinds.GroupUpdated, groupId, groupId)]);
        await Eventually.AssertAsync(() => Records().Count == 1, "the change record", Patience);
        Assert.EndsWith("Changed by: actor not read", Records()[0]["description"]);
        await Eventually.AssertAsync(async () => await GroupChanges() is { Scheduled: 1, Depth: 0, InFlight: 0 }, "the follow-up scheduled", Patience);

        // Five minutes on: the entry is published (four minutes after the change) and the follow-up comes due.
        clock.Advance(TimeSpan.FromMinutes(5));
        await Eventually.AssertAsync(() => !Records()[0]["description"].EndsWith("actor not read", StringComparison.Ordinal), "the actor added", Patience);

        var record = Records()[0];
        var entry = graph.DirectoryAudits.First(a => a["activityDisplayName"]!.GetValue<string>() == "Add member to group");
        Assert.EndsWith($"(directory audit entry {entry["id"]})", record["description"]);
        Assert.Contains("Changed by: it.admin@contoso.example at ", record["description"]);
        Assert.StartsWith("Changed by: it.admin@contoso.example", Assert.Single(serviceNow.Journal("change_request", record["sys_id"])));

        // The follow-up delivered again (a redelivery after a lost lock) adds nothing.
        await host.Queues.SendAsync(QueueNames.GroupChanges, [Message(MessageKinds.GroupActorFollowUp, groupId, $"group-actors:{groupId}") with
        {
            Properties = new Dictionary<string, string>
            {
                [ActorFollowUp.Pending] = $"{userId}:added:1",
                [ActorFollowUp.ObservedAt] = clock.GetUtcNow().ToString("O"),
                [ActorFollowUp.Round] = "1",
            },
        }]);
        await Eventually.AssertAsync(async () => await GroupChanges() is { Depth: 0, InFlight: 0 }, "the redelivered follow-up handled", Patience);
        Assert.Single(serviceNow.Journal("change_request", record["sys_id"]));
        Assert.Equal(record["description"], Records()[0]["description"]);
        Assert.Single(Records());
        Assert.Equal(0, (await GroupChanges()).DeadLettered);
    }

    private static ChangeMessage Message(string kind, string subjectId, string sessionKey) => new()
    {
        MessageId = $"{kind}:{Guid.NewGuid():N}",
        SessionKey = sessionKey,
        Kind = kind,
        TenantId = "sandbox",
        SubjectId = subjectId,
        ChangedAt = DateTimeOffset.UtcNow,
        CorrelationId = Guid.NewGuid().ToString("N"),
    };
}
