using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>With GroupChanges:TreatRoleAssignableAsSensitive, every role-assignable group is sensitive without being listed.</summary>
public sealed class RoleAssignableGroupTests
{
    private const string TierZeroId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c01";
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";
    private const string MeganId = "2a9c8b7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d";

    private readonly ProvisioningWorld _world = new();

    public RoleAssignableGroupTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.AddUser(MeganId, "megan@contoso.com");
        _world.Directory.GetGroupAsync(TierZeroId, Arg.Any<CancellationToken>())
            .Returns(new DirectoryGroup { Id = TierZeroId, DisplayName = "Tier 0 Admins", IsAssignableToRole = true });
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>())
            .Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", IsAssignableToRole = false });
    }

    private async Task DeltaAsync(params DirectoryGroup[] groups)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(groups, $"link-{Guid.NewGuid():N}"));
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);
    }

    /// <summary>The first reading (the baseline), then incremental pages that carry members only, as Graph's delta does.</summary>
    private async Task BaselineAsync() =>
        await DeltaAsync(new DirectoryGroup { Id = TierZeroId, DisplayName = "Tier 0 Admins", MembersAdded = [MeganId] },
            new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [MeganId] });

    private IReadOnlyDictionary<string, string?> RecordOf(string groupName) =>
        _world.ChangeRequests.Single(r => r["short_description"]!.EndsWith(groupName, StringComparison.Ordinal));

    [Fact]
    public async Task A_change_to_a_role_assignable_group_waits_in_Authorize_and_an_ordinary_group_stays_standard()
    {
        _world.GroupChanges.TreatRoleAssignableAsSensitive = true;
        await BaselineAsync();

        await DeltaAsync(new DirectoryGroup { Id = TierZeroId, MembersAdded = [AdeleId] }, new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });

        var tierZero = RecordOf("Tier 0 Admins");
        Assert.Equal(("normal", "-3", "requested"), (tierZero["type"], tierZero["state"], tierZero["approval"]));
        var finance = RecordOf("Finance-Approvers");
        Assert.Equal("standard", finance["type"]);
        Assert.Null(finance.GetValueOrDefault("state"));
    }

    [Fact]
    public async Task Role_assignability_costs_no_Graph_read_beyond_the_one_a_run_makes_for_the_group_name()
    {
        _world.GroupChanges.TreatRoleAssignableAsSensitive = true;
        await BaselineAsync();

        await DeltaAsync(new DirectoryGroup { Id = TierZeroId, MembersAdded = [AdeleId] });
        await DeltaAsync(new DirectoryGroup { Id = TierZeroId, MembersAdded = [AlexId] });
        await DeltaAsync(new DirectoryGroup { Id = TierZeroId, MembersRemoved = [AdeleId] });

        Assert.Equal(3, _world.ChangeRequests.Count(r => r["type"] == "normal"));
        // One read per run whose page carried members only (for the name; it tells role-assignability too), none more.
        await _world.Directory.Received(3).GetGroupAsync(TierZeroId, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_listed_group_keeps_its_own_policy_and_with_the_setting_off_role_assignable_groups_are_ordinary()
    {
        _world.GroupChanges.SensitiveGroups.Add(new SensitiveGroup { GroupId = TierZeroId, Policy = "record" });
        _world.GroupChanges.TreatRoleAssignableAsSensitive = true;
        await BaselineAsync();
        await DeltaAsync(new DirectoryGroup { Id = TierZeroId, MembersAdded = [AdeleId] });
        Assert.Equal("standard", RecordOf("Tier 0 Admins")["type"]);

        var off = new ProvisioningWorld();
        off.AddUser(AdeleId, "adele@contoso.com");
        off.Directory.GetGroupAsync(TierZeroId, Arg.Any<CancellationToken>())
            .Returns(new DirectoryGroup { Id = TierZeroId, DisplayName = "Tier 0 Admins", IsAssignableToRole = true });
        off.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = TierZeroId, DisplayName = "Tier 0 Admins", MembersAdded = [MeganId] }], "l0"));
        await off.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);
        off.GroupDelta.Clear();
        off.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = TierZeroId, DisplayName = "Tier 0 Admins", MembersAdded = [AdeleId] }], "l1"));
        await off.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);

        Assert.Equal("standard", Assert.Single(off.ChangeRequests)["type"]);
        await off.Directory.DidNotReceive().GetGroupAsync(TierZeroId, Arg.Any<CancellationToken>());
    }
}
