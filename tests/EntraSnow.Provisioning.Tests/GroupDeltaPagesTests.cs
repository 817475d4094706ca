using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>A groups delta is written page by page, and where it stands is saved after each page: a run cut off goes on.</summary>
public sealed class GroupDeltaPagesTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AuditorsId = "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";

    private readonly ProvisioningWorld _world = new();

    public GroupDeltaPagesTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance" });
        _world.Directory.GetGroupAsync(AuditorsId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = AuditorsId, DisplayName = "Auditors" });
    }

    private async Task RunAsync(string messageId = "run")
    {
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", messageId), CancellationToken.None);
    }

    private async Task BaselineAsync()
    {
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(
        [
            new DirectoryGroup { Id = FinanceId, DisplayName = "Finance" },
            new DirectoryGroup { Id = AuditorsId, DisplayName = "Auditors" },
        ], "link-0"));
        await RunAsync("baseline");
        _world.GroupDelta.Clear();
    }

    /// <summary>Two pages after the baseline: Adele joins Finance on the first, Alex joins Auditors on the second.</summary>
    private void TwoPages()
    {
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }], null) { NextLink = "page-2" });
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = AuditorsId, MembersAdded = [AlexId] }], "link-1"));
    }

    private IReadOnlyList<string?> Records() => [.. _world.ChangeRequests.Select(r => r["short_description"])];

    [Fact]
    public async Task A_run_cut_off_after_its_first_page_goes_on_from_the_second_page_and_records_each_change_once()
    {
        await BaselineAsync();
        TwoPages();
        // Graph fails while the second page is written (its group's name is read for the record).
        _world.Directory.GetGroupAsync(AuditorsId, Arg.Any<CancellationToken>()).Returns(
            _ => throw new GraphUnavailableException("Graph is down"),
            _ => new DirectoryGroup { Id = AuditorsId, DisplayName = "Auditors" });

        await Assert.ThrowsAnyAsync<Exception>(() => RunAsync("first-delivery"));
        Assert.Equal(["Entra ID: adele@contoso.com added to Finance"], Records());
        Assert.Equal("link-0", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);

        await RunAsync("redelivered");

        Assert.Equal(["Entra ID: adele@contoso.com added to Finance", "Entra ID: alex@contoso.com added to Auditors"], Records());
        Assert.Equal("page-2", _world.GroupDeltaReads[^1]);
        Assert.Equal("link-1", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);
        Assert.False(_world.Checkpoints.Values.ContainsKey(GroupDeltaProgress.Key));
    }

    [Fact]
    public async Task A_host_killed_between_a_pages_ServiceNow_write_and_its_progress_save_still_leaves_one_record_per_change()
    {
        await BaselineAsync();
        TwoPages();
        await RunAsync("first-delivery");

        // What a kill right after the second page's ServiceNow write leaves: progress after page one, Alex's addition still pending in the ledger.
        _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey] = "link-0";
        _world.Checkpoints.Values[GroupDeltaProgress.Key] = JsonSerializer.Serialize(
            new GroupDeltaProgress("page-2", Full: false, Baseline: false, RunKey: "link-0", StartedBy: "first-delivery", Pages: 1, Groups: 1));
        await new MembershipLedger(_world.Checkpoints).SetPendingAsync(AuditorsId, AlexId, new MembershipState(true, 1), CancellationToken.None);
        await RunAsync("redelivered");

        Assert.Equal(2, _world.ChangeRequests.Count);
        Assert.Equal("page-2", _world.GroupDeltaReads[^1]);
        Assert.Equal("in:1", _world.Checkpoints.Values[MembershipLedger.Key(AuditorsId, AlexId)]);
    }

    [Fact]
    public async Task A_group_spread_over_two_pages_of_a_full_reading_keeps_every_member_and_records_nothing_that_did_not_change()
    {
        await ProvisionAsync(AdeleId, AlexId);
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = [AdeleId, AlexId] }], "link-0"));
        await RunAsync("baseline");
        _world.GroupDelta.Clear();

        // Read from scratch again (an expired link): Graph splits the group's members over two pages.
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = [AdeleId] }], null)
            { IsFullResync = true, NextLink = "page-2" });
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, MembersAdded = [AlexId] }], "link-1") { IsFullResync = true });
        await RunAsync("full");

        Assert.Empty(_world.ChangeRequests);
        Assert.Equal(2, _world.ServiceNow.Records("sys_user_grmember").Count);
        Assert.Equal("Finance", Assert.Single(_world.ServiceNow.Records("sys_user_group"))["name"]);
        Assert.DoesNotContain(_world.Checkpoints.Values.Keys, k => k.StartsWith("groups-delta:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_full_reading_writes_each_group_once_every_page_is_read()
    {
        await ProvisionAsync(AdeleId, AlexId);
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = [AdeleId] }], null) { NextLink = "page-2" });
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = AuditorsId, DisplayName = "Auditors", MembersAdded = [AlexId] }], "link-0"));
        // Graph fails after the first page: its group is noted, not yet written.
        _world.Directory.GetGroupsDeltaAsync(null, Arg.Any<CancellationToken>()).Returns(_ => FailingAfter(_world.GroupDelta[0]));

        await Assert.ThrowsAnyAsync<Exception>(() => RunAsync("from-scratch"));
        Assert.Empty(_world.ServiceNow.Records("sys_user_group"));

        await RunAsync("from-scratch");

        Assert.Equal(["Auditors", "Finance"], _world.ServiceNow.Records("sys_user_group").Select(g => g["name"]).Order());
        Assert.Equal(2, _world.ServiceNow.Records("sys_user_grmember").Count);
        Assert.Equal("link-0", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);
    }

    private async Task ProvisionAsync(params string[] ids)
    {
        foreach (var id in ids)
        {
            await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, id), CancellationToken.None);
        }
    }

#pragma warning disable CS1998 // async iterator over an in-memory page
    private static async IAsyncEnumerable<DeltaPage<DirectoryGroup>> FailingAfter(DeltaPage<DirectoryGroup> page)
    {
        yield return page;
        throw new GraphUnavailableException("Graph is down");
    }
#pragma warning restore CS1998

    /// <summary>Graph spreads Finance's four new members over two pages of one incremental delta, two on each.</summary>
    private static string[] FinanceOverTwoPages(ProvisioningWorld world)
    {
        var members = Enumerable.Range(0, 4).Select(i => $"00000000-0000-4000-8000-00000000000{i}").ToArray();
        world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, MembersAdded = members[..2] }], null) { NextLink = "page-2" });
        world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, MembersAdded = members[2..] }], "link-1"));
        return members;
    }

    [Fact]
    public async Task The_cap_on_records_per_group_counts_the_whole_run_when_Graph_spreads_a_groups_members_over_pages()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 3;
        await BaselineAsync();
        var members = FinanceOverTwoPages(_world);

        await RunAsync();

        // Two records of their own from the first page; the second page takes the run over the cap of 3: one summary.
        Assert.Equal(
            [$"Entra ID: {members[0]} added to Finance", $"Entra ID: {members[1]} added to Finance", "Entra ID: 2 members added to Finance"],
            Records());
        Assert.Contains("The same delta run recorded 2 earlier changes of this group one by one", _world.ChangeRequests[2]["description"]);
        Assert.False(_world.Checkpoints.Values.ContainsKey(GroupDeltaProgress.Key));
    }

    [Fact]
    public async Task A_run_resumed_after_its_first_page_still_counts_that_pages_changes_against_the_cap()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 3;
        await BaselineAsync();
        FinanceOverTwoPages(_world);
        // Graph fails while the second page is written (the group's name is read for its records), once.
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(
            _ => new DirectoryGroup { Id = FinanceId, DisplayName = "Finance" },
            _ => throw new GraphUnavailableException("Graph is down"),
            _ => new DirectoryGroup { Id = FinanceId, DisplayName = "Finance" });

        await Assert.ThrowsAnyAsync<Exception>(() => RunAsync("first-delivery"));
        Assert.Equal(2, _world.ChangeRequests.Count);
        await RunAsync("redelivered");

        Assert.Equal("page-2", _world.GroupDeltaReads[^1]);
        Assert.Equal(3, _world.ChangeRequests.Count);
        Assert.Equal("Entra ID: 2 members added to Finance", Records()[2]);
    }

    /// <summary>Graph spreads Finance's new members over <paramref name="pages"/> pages of one incremental delta, four on each.</summary>
    private static string[] FinanceOverPages(ProvisioningWorld world, int pages)
    {
        var members = Enumerable.Range(0, pages * 4).Select(i => $"00000000-0000-4000-8000-{i:D12}").ToArray();
        for (var page = 0; page < pages; page++)
        {
            var last = page == pages - 1;
            world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, MembersAdded = members[(page * 4)..((page + 1) * 4)] }],
                last ? "link-1" : null) { NextLink = last ? null : $"page-{page + 2}" });
        }

        return members;
    }

    [Fact]
    public async Task A_group_past_the_cap_on_several_pages_of_a_run_gets_one_summary_record_counting_every_page()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 3;
        await BaselineAsync();
        var members = FinanceOverPages(_world, 3);

        await RunAsync();

        var summary = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: 12 members added to Finance", summary["short_description"]);
        Assert.Contains("12 membership changes of the Entra ID group Finance were seen in one groups delta run: 12 added, 0 removed.", summary["description"]);
        Assert.All(members, m => Assert.Contains($"added: {m} ({m})", summary["description"]));
        Assert.DoesNotContain(_world.ServiceNow.Queries, q => q.Table == MembershipChangeRecorder.Table);
        Assert.DoesNotContain(_world.Checkpoints.Values.Keys, k => k.StartsWith("groupsummary:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_killed_after_a_later_pages_summary_update_counts_that_page_once_when_it_goes_on()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 3;
        await BaselineAsync();
        var members = FinanceOverPages(_world, 3);
        // Killed on page two after its summary update, before the ledger took its first member.
        _world.Checkpoints.BeforeWrite = (key, value) =>
        {
            if (key == MembershipLedger.Key(FinanceId, members[4]) && !value.Contains(":pending", StringComparison.Ordinal))
            {
                throw new IOException("killed");
            }
        };
        await Assert.ThrowsAsync<IOException>(() => RunAsync("first-delivery"));
        _world.Checkpoints.BeforeWrite = null;
        Assert.Equal("Entra ID: 8 members added to Finance", Assert.Single(_world.ChangeRequests)["short_description"]);

        await RunAsync("redelivered");

        Assert.Equal("page-2", _world.GroupDeltaReads[^1]);
        var summary = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: 12 members added to Finance", summary["short_description"]);
        Assert.Single(summary["description"]!.Split('\n'), line => line.Contains(members[4], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_summary_updated_by_a_later_page_keeps_the_actor_a_follow_up_wrote_into_it()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 3;
        await BaselineAsync();
        FinanceOverPages(_world, 2);
        // Between the pages the late-actor follow-up names who made the bulk change (as it may while a long run goes on).
        _world.Checkpoints.BeforeWrite = (key, value) =>
        {
            if (key == GroupDeltaProgress.Key && _world.ChangeRequests is [var summary])
            {
                _world.ServiceNow.UpdateAsync(MembershipChangeRecorder.Table, summary["sys_id"]!, new Dictionary<string, string?>
                {
                    ["description"] = summary["description"]!.Replace("Changed by: actor not read", "Changed by: Provisioning Script (application)", StringComparison.Ordinal),
                }).GetAwaiter().GetResult();
            }
        };

        await RunAsync();

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: 8 members added to Finance", record["short_description"]);
        Assert.EndsWith("Changed by: Provisioning Script (application)", record["description"]);
    }

    [Fact]
    public async Task Below_the_cap_over_the_whole_run_every_change_keeps_its_own_record()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 4;
        await BaselineAsync();
        FinanceOverTwoPages(_world);

        await RunAsync();

        Assert.Equal(4, _world.ChangeRequests.Count);
        Assert.All(Records(), r => Assert.DoesNotContain("members added", r));
    }
}
