using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>
/// A full groups read notes its groups and their members page by page (<c>groups-delta:*</c>). A run abandoned half-way
/// (dead-lettered, then replaced by a new from-scratch run) leaves its notes behind: the new run must settle what it read
/// itself, not what the old one read before groups were deleted or members left.
/// </summary>
public sealed class AbandonedFullReadTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AuditorsId = "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f";
    private const string SalesId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";

    private readonly ProvisioningWorld _world = new();

    public AbandonedFullReadTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance" });
        _world.Directory.GetGroupAsync(AuditorsId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = AuditorsId, DisplayName = "Auditors" });
    }

    private async Task ProvisionUsersAsync()
    {
        foreach (var id in new[] { AdeleId, AlexId })
        {
            await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, id), CancellationToken.None);
        }
    }

    /// <summary>Reads the groups from scratch over the given pages, one group a page.</summary>
    private Task ReadFromScratchAsync(string messageId, params DirectoryGroup[] pages)
    {
        _world.GroupDelta.Clear();
        for (var i = 0; i < pages.Length; i++)
        {
            var last = i == pages.Length - 1;
            _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([pages[i]], last ? $"link-{messageId}" : null) { IsFullResync = true, NextLink = last ? null : $"{messageId}-page-{i + 1}" });
        }

        var message = ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", messageId) with
        {
            Properties = new Dictionary<string, string> { [ProvisioningMessageProperties.FromScratch] = "true" },
        };
        return _world.GroupHandler().HandleAsync(message, CancellationToken.None);
    }

    /// <summary>The host dies as the run notes <paramref name="groupId"/>: the run is left half-way, its notes so far behind it.</summary>
    private void KillWhenNoting(string groupId) => _world.Checkpoints.BeforeWrite = (key, _) =>
    {
        if (key == $"groups-delta:read:{groupId}")
        {
            throw new IOException("killed");
        }
    };

    private IReadOnlyList<string?> MembersOf(string groupObjectId)
    {
        var group = _world.ServiceNow.Records("sys_user_group").Single(g => g[_world.Options.ObjectIdField] == groupObjectId)["sys_id"];
        var users = _world.SysUsers.ToDictionary(u => u["sys_id"]!, u => u[_world.Options.ObjectIdField]);
        return [.. _world.ServiceNow.Records("sys_user_grmember").Where(r => r["group"] == group).Select(r => users.GetValueOrDefault(r["user"]!)).Order()];
    }

    private static DirectoryGroup Group(string id, string name, params string[] members) => new() { Id = id, DisplayName = name, MembersAdded = members };

    [Fact]
    public async Task A_member_who_left_after_an_abandoned_full_read_noted_them_is_recorded_as_removed_by_the_next_full_read()
    {
        await ProvisionUsersAsync();
        await ReadFromScratchAsync("baseline", Group(FinanceId, "Finance", AdeleId, AlexId));
        // Read on its second page with Alex in it; the host dies on the third page and the run is dead-lettered.
        KillWhenNoting(SalesId);
        await Assert.ThrowsAsync<IOException>(() => ReadFromScratchAsync("abandoned",
            Group(AuditorsId, "Auditors", AdeleId), Group(FinanceId, "Finance", AdeleId, AlexId), Group(SalesId, "Sales", AdeleId)));
        _world.Checkpoints.BeforeWrite = null;

        // Alex leaves Finance; an operator starts a new full read, where Graph lists Finance on its first page.
        await ReadFromScratchAsync("fresh", Group(FinanceId, "Finance", AdeleId), Group(AuditorsId, "Auditors", AdeleId));

        Assert.Equal([AdeleId], MembersOf(FinanceId));
        // Auditors is new since the baseline: Adele's record of it is the other one.
        Assert.Equal(["Entra ID: adele@contoso.com added to Auditors", "Entra ID: alex@contoso.com removed from Finance"],
            _world.ChangeRequests.Select(r => r["short_description"]).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(_world.Checkpoints.Values.Keys, k => k.StartsWith("groups-delta:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_group_deleted_after_an_abandoned_full_read_noted_it_is_not_written_by_the_next_full_read()
    {
        await ProvisionUsersAsync();
        KillWhenNoting(AuditorsId);
        await Assert.ThrowsAsync<IOException>(() => ReadFromScratchAsync("abandoned",
            Group(FinanceId, "Finance", AdeleId), Group(SalesId, "Sales", AlexId), Group(AuditorsId, "Auditors", AdeleId)));
        _world.Checkpoints.BeforeWrite = null;

        // Sales is deleted in Entra ID; the new full read does not list it.
        _world.Directory.GetGroupAsync(SalesId, Arg.Any<CancellationToken>()).Returns((DirectoryGroup?)null);
        await ReadFromScratchAsync("fresh", Group(FinanceId, "Finance", AdeleId), Group(AuditorsId, "Auditors", AdeleId));

        Assert.Equal(["Auditors", "Finance"], _world.ServiceNow.Records("sys_user_group").Select(g => g["name"]).Order());
        Assert.DoesNotContain(_world.Checkpoints.Values.Keys, k => k.StartsWith("groups-delta:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_full_read_replacing_one_that_died_after_its_summary_record_does_not_summarise_the_same_members_again()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 3;
        await ReadFromScratchAsync("baseline", Group(FinanceId, "Finance"));
        var members = Enumerable.Range(0, 6).Select(i => $"00000000-0000-4000-8000-{i:D12}").ToArray();
        // The first full read creates Finance's summary record and dies before the ledger takes its first member; its
        // message is dead-lettered and an operator starts a new full read.
        _world.Checkpoints.BeforeWrite = (key, value) =>
        {
            if (key == MembershipLedger.Key(FinanceId, members[0]) && !value.Contains(":pending", StringComparison.Ordinal))
            {
                throw new IOException("killed");
            }
        };
        await Assert.ThrowsAsync<IOException>(() => ReadFromScratchAsync("abandoned", Group(FinanceId, "Finance", members)));
        _world.Checkpoints.BeforeWrite = null;
        Assert.Equal("Entra ID: 6 members added to Finance", Assert.Single(_world.ChangeRequests)["short_description"]);

        await ReadFromScratchAsync("fresh", Group(FinanceId, "Finance", members));

        Assert.Equal("Entra ID: 6 members added to Finance", Assert.Single(_world.ChangeRequests)["short_description"]);
        Assert.All(members, m => Assert.Equal("in:1", _world.Checkpoints.Values[MembershipLedger.Key(FinanceId, m)]));
    }
}
