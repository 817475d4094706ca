using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.Retention;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Provisioning.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>
/// A summary record's tally (<c>groupsummary:*</c>) is what tells a run that its summary may exist already. Retention
/// deletes the tallies of runs that never got done after <c>Retention:DeletedObjects</c>, while their dead letters are
/// kept <c>Retention:DeadLetters</c> and may be replayed after: such a replay must still find its summary.
/// </summary>
public sealed class SummaryReplayAfterRetentionTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";

    private readonly ProvisioningWorld _world = new();
    private readonly RetentionOptions _retention = new();

    public SummaryReplayAfterRetentionTests()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 3;
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance" });
    }

    private static string[] Members(int from, int count) => [.. Enumerable.Range(from, count).Select(i => $"00000000-0000-4000-8000-{i:D12}")];

    private RetentionJob Retention() => new(_world.Log, new DeletedObjects(_world.Checkpoints, _world.Directory), Substitute.For<IWebhookReplayStore>(),
        [Substitute.For<IHostDataRetention>()], Microsoft.Extensions.Options.Options.Create(_retention), _world.Clock, NullLogger<RetentionJob>.Instance);

    /// <summary>A message as a host queues it: stamped with the time it was made (a replay keeps it).</summary>
    private ChangeMessage Message(string kind, string subjectId, string messageId, bool fromScratch = false)
    {
        var message = ProvisioningWorld.Message(kind, subjectId, messageId) with { ChangedAt = _world.Clock.GetUtcNow() };
        return fromScratch ? message with { Properties = new Dictionary<string, string> { [ProvisioningMessageProperties.FromScratch] = "true" } } : message;
    }

    private async Task DeltaAsync(ChangeMessage message, string link, params string[] members)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = members }], link));
        await _world.GroupHandler().HandleAsync(message, CancellationToken.None);
    }

    [Fact]
    public async Task A_group_sync_replayed_after_retention_purged_its_summary_tally_creates_no_second_summary()
    {
        await DeltaAsync(Message(MessageKinds.GroupDeltaResync, "groups", "baseline"), "link-0");
        var members = Members(0, 6);
        _world.Directory.GetGroupMembersAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new GroupMembers(members, []));
        var sync = Message(MessageKinds.GroupSync, FinanceId, $"group.sync:{FinanceId}:corr:1");
        // The checkpoint store fails after the summary was created, before the ledger took its members; the message is
        // retried until it is dead-lettered.
        _world.Checkpoints.BeforeWrite = (key, value) =>
        {
            if (key == MembershipLedger.Key(FinanceId, members[0]) && !value.Contains(":pending", StringComparison.Ordinal))
            {
                throw new IOException("the checkpoint store is down");
            }
        };
        await Assert.ThrowsAsync<IOException>(() => _world.GroupHandler().HandleAsync(sync, CancellationToken.None));
        _world.Checkpoints.BeforeWrite = null;
        Assert.Equal("Entra ID: 6 members added to Finance", Assert.Single(_world.ChangeRequests)["short_description"]);

        // A month on, retention has deleted the run's tally; the dead letter is still there and an operator replays it.
        _world.Clock.Advance(_retention.DeletedObjects + TimeSpan.FromDays(1));
        await Retention().RunAsync(CancellationToken.None);
        Assert.DoesNotContain(_world.Checkpoints.Values.Keys, k => k.StartsWith(BulkChangeSummaries.KeyPrefix, StringComparison.Ordinal));
        await _world.GroupHandler().HandleAsync(sync with { Attempt = 0 }, CancellationToken.None);

        var summary = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: 6 members added to Finance", summary["short_description"]);
        Assert.All(members, m => Assert.StartsWith("in:", _world.Checkpoints.Values[MembershipLedger.Key(FinanceId, m)], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_summary_past_the_cap_on_the_normal_path_costs_its_create_alone()
    {
        await DeltaAsync(Message(MessageKinds.GroupDeltaResync, "groups", "baseline"), "link-0");
        _world.ServiceNow.Queries.Clear();

        await DeltaAsync(Message(MessageKinds.GroupDeltaResync, "groups", "run-1"), "link-1", Members(0, 6));

        Assert.Equal("Entra ID: 6 members added to Finance", Assert.Single(_world.ChangeRequests)["short_description"]);
        Assert.DoesNotContain(_world.ServiceNow.Queries, q => q.Table == MembershipChangeRecorder.Table);
    }

    [Fact]
    public async Task A_from_scratch_message_replayed_after_its_run_was_finished_elsewhere_records_the_changes_since_in_a_summary_of_its_own()
    {
        await DeltaAsync(Message(MessageKinds.GroupDeltaResync, "groups", "baseline"), "link-0");
        var first = Members(0, 6);
        var fullRead = Message(MessageKinds.GroupDeltaResync, "groups", "full-read", fromScratch: true);
        // The from-scratch run writes its summary, then fails storing its new delta link: its message is dead-lettered.
        _world.Checkpoints.BeforeWrite = (key, _) =>
        {
            if (key == GroupChangesHandler.DeltaLinkKey)
            {
                throw new IOException("the checkpoint store is down");
            }
        };
        await Assert.ThrowsAsync<IOException>(() => DeltaAsync(fullRead, "link-1", first));
        _world.Checkpoints.BeforeWrite = null;
        // The next notification's run finishes it.
        await _world.GroupHandler().HandleAsync(Message(MessageKinds.GroupDeltaResync, "groups", "next"), CancellationToken.None);
        Assert.Equal("link-1", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);

        // A month on, six more members; the old dead letter is replayed.
        _world.Clock.Advance(_retention.DeletedObjects + TimeSpan.FromDays(1));
        await Retention().RunAsync(CancellationToken.None);
        await DeltaAsync(fullRead with { Attempt = 0 }, "link-2", [.. first, .. Members(6, 6)]);

        Assert.Equal(["Entra ID: 6 members added to Finance", "Entra ID: 6 members added to Finance"], _world.ChangeRequests.Select(r => r["short_description"]));
        Assert.Equal(2, _world.ChangeRequests.Select(r => r["correlation_id"]).Distinct().Count());
        Assert.Contains(Members(6, 1)[0], _world.ChangeRequests[1]["description"]);
        Assert.DoesNotContain(first[0], _world.ChangeRequests[1]["description"]);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(-1, false)]
    public void Retention_cannot_be_set_to_delete_summary_tallies_sooner_than_a_replay_looks_its_summary_up(int hoursBeyond, bool accepted)
    {
        var value = RetentionOptions.ShortestDeletedObjects + TimeSpan.FromHours(hoursBeyond);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Retention:DeletedObjects"] = value.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        using var services = new ServiceCollection().AddRetention(configuration).BuildServiceProvider();

        var read = Record.Exception(() => services.GetRequiredService<IOptions<RetentionOptions>>().Value);

        Assert.Equal(accepted, read is null);
    }
}
