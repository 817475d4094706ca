using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>Group runs that one group cannot stop, bulk changes that stay bounded, lookups in batches.</summary>
public sealed class GroupSyncIsolationTests
{
    private const string RefusedId = "7e0a9f55-2b1c-4d3e-8f70-1a2b3c4d5e6f";
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";

    private readonly ProvisioningWorld _world = new();

    private async Task ProvisionAsync(params string[] ids)
    {
        foreach (var id in ids)
        {
            _world.AddUser(id, $"{id}@contoso.com");
            await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, id), CancellationToken.None);
        }
    }

    private async Task RunAsync(string link, string messageId, params DirectoryGroup[] groups)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(groups, link));
        _world.Queue.Ready.Add((QueueNames.GroupChanges, ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", messageId)));
        await _world.DrainAsync();
    }

    [Fact]
    public async Task A_group_ServiceNow_refuses_is_dead_lettered_on_its_own_while_the_others_and_later_deltas_go_on()
    {
        await ProvisionAsync("u1", "u2");
        _world.ServiceNow.Refused.Add(RefusedId);
        _world.Directory.GetGroupAsync(RefusedId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = RefusedId, DisplayName = "Locked" });
        _world.Directory.GetGroupMembersAsync(RefusedId, Arg.Any<CancellationToken>()).Returns(new GroupMembers(["u1"], []));

        await RunAsync("link-1", "run-1",
            new DirectoryGroup { Id = RefusedId, DisplayName = "Locked", MembersAdded = ["u1"] },
            new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = ["u1", "u2"] });
        await RunAsync("link-2", "run-2", new DirectoryGroup { Id = FinanceId, MembersRemoved = ["u2"] });

        var group = Assert.Single(_world.ServiceNow.Records("sys_user_group"));
        Assert.Equal("Finance", group["name"]);
        Assert.Single(_world.ServiceNow.Records("sys_user_grmember"));
        Assert.Equal("link-2", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);
        var (deadLetter, reason) = Assert.Single(_world.DeadLettered);
        Assert.Equal(MessageKinds.GroupSync, deadLetter.Kind);
        Assert.Equal(RefusedId, deadLetter.SubjectId);
        Assert.Contains("403", reason);
    }

    [Fact]
    public async Task A_split_off_group_keeps_the_removals_its_delta_carried()
    {
        await ProvisionAsync("u1", "u2");
        await RunAsync("link-1", "run-1", new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = ["u1", "u2"] });
        _world.ServiceNow.Refused.Add(FinanceId);
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance" });
        _world.Directory.GetGroupMembersAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new GroupMembers(["u1"], []));

        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, MembersRemoved = ["u2"] }], "link-2"));
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", "run-2"), CancellationToken.None);
        _world.ServiceNow.Refused.Clear();
        await _world.DrainAsync();

        Assert.Empty(_world.DeadLettered);
        Assert.Equal("Entra ID: u2@contoso.com removed from Finance", Assert.Single(_world.ChangeRequests)["short_description"]);
        Assert.Single(_world.ServiceNow.Records("sys_user_grmember"));
    }

    [Fact]
    public async Task Members_are_looked_up_in_batches_and_a_from_scratch_run_never_reads_every_sys_user()
    {
        var members = Enumerable.Range(0, 250).Select(i => $"m{i:D3}").ToArray();
        await ProvisionAsync(members);
        await ProvisionAsync(Enumerable.Range(0, 300).Select(i => $"other{i:D3}").ToArray());
        _world.ServiceNow.Queries.Clear();

        await RunAsync("link-1", "run-1", new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = members });

        var userQueries = _world.ServiceNow.Queries.Where(q => q.Table == "sys_user").ToList();
        Assert.Equal(3, userQueries.Count);
        Assert.All(userQueries, q => Assert.Contains("u_entra_object_idIN", q.Query));
        Assert.Equal(250, _world.ServiceNow.Records("sys_user_grmember").Count);
    }

    [Fact]
    public async Task A_group_created_with_many_members_gets_one_summary_record_above_the_cap()
    {
        var members = Enumerable.Range(0, 150).Select(i => $"m{i:D3}").ToArray();
        foreach (var id in members)
        {
            _world.AddUser(id, $"{id}@contoso.com");
        }

        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance" });
        await RunAsync("link-0", "baseline", new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = ["m000"] });
        var readsBefore = _world.GraphBatchUserReads;

        await RunAsync("link-1", "run-1", new DirectoryGroup { Id = FinanceId, MembersAdded = members });
        _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey] = "link-0";
        await RunAsync("link-1", "replayed", new DirectoryGroup { Id = FinanceId, MembersAdded = members });

        var summary = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: 149 members added to Finance", summary["short_description"]);
        Assert.Contains("added: m001@contoso.com (m001)", summary["description"]);
        Assert.Contains("… and 109 more", summary["description"]);
        Assert.Contains(":bulk:", summary["correlation_id"]);
        Assert.Equal(40, _world.GraphBatchUserReads - readsBefore);
        Assert.Equal(150, _world.Checkpoints.Values.Keys.Count(k => k.StartsWith("groupmember:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_full_sync_groups_step_waits_longer_each_time_the_users_are_not_done()
    {
        _world.Options.FullSyncPollInterval = TimeSpan.FromMilliseconds(250);
        _world.AddUser("u1", "u1@contoso.com");
        var runId = await _world.StartSyncAsync();
        var groups = _world.Queue.Ready.Single(r => r.Queue == QueueNames.GroupChanges).Message;
        _world.Queue.Ready.Clear();

        var delays = new List<TimeSpan>();
        var next = groups;
        for (var wait = 0; wait < 8; wait++)
        {
            await _world.GroupHandler().HandleAsync(next, CancellationToken.None);
            var (_, message, visibleAt) = _world.Queue.Scheduled[^1];
            delays.Add(visibleAt - _world.Clock.GetUtcNow());
            next = message;
        }

        Assert.Equal(runId, next.Property(ProvisioningMessageProperties.SyncRun));
        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], delays.Select(d => d.TotalSeconds));
    }
}
