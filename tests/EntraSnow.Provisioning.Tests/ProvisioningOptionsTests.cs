using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Scheduling;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

public sealed class ProvisioningOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(Substitute.For<IDirectory>());
        services.AddSingleton(Substitute.For<IServiceNowTable>());
        services.AddSingleton(Substitute.For<IServiceNowReferences>());
        services.AddSingleton(Substitute.For<IMessageQueue>());
        services.AddSingleton(Substitute.For<ICheckpointStore>());
        services.AddSingleton(Substitute.For<IProvisioningLog>());
        services.AddProvisioning(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddProvisioning_registers_both_consumers_and_the_full_sync_timer()
    {
        using var provider = Build(new() { ["Graph:TenantId"] = "tenant-9" });

        Assert.Equal([QueueNames.GroupChanges, QueueNames.UserChanges], provider.GetServices<IMessageHandler>().Select(h => h.Queue).Order());
        var job = Assert.Single(provider.GetServices<IScheduledJob>());
        Assert.Equal("full-sync", job.Name);
        Assert.False(job.RunOnStart);
        Assert.NotNull(provider.GetRequiredService<FullSyncRunner>());
        Assert.Equal("tenant-9", provider.GetRequiredService<IOptions<ProvisioningOptions>>().Value.TenantId);
    }

    [Fact]
    public void A_configured_mapping_overrides_only_what_it_sets_and_an_empty_source_removes_a_default()
    {
        using var provider = Build(new()
        {
            ["Provisioning:Mappings:department:OnMissingReference"] = "Create",
            ["Provisioning:Mappings:mobile_phone:Source"] = "",
            ["Provisioning:Mappings:u_job_code:Source"] = "employeeId",
        });

        var mappings = provider.GetRequiredService<IOptions<ProvisioningOptions>>().Value.EffectiveMappings();

        Assert.Equal("department", mappings["department"].Source);
        Assert.Equal("cmn_department", mappings["department"].ReferenceTable);
        Assert.Equal(MissingReferencePolicy.Create, mappings["department"].OnMissingReference);
        Assert.False(mappings.ContainsKey("mobile_phone"));
        Assert.Equal("employeeId", mappings["u_job_code"].Source);
    }

    [Fact]
    public void A_mapping_from_an_unknown_Graph_attribute_stops_start_up_with_the_setting_named()
    {
        using var provider = Build(new() { ["Provisioning:Mappings:title:Source"] = "favouriteColour" });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ProvisioningOptions>>().Value);

        Assert.Contains("Provisioning:Mappings:title:Source 'favouriteColour'", ex.Message);
    }

    [Theory]
    [InlineData("user_name,manager")]
    [InlineData("u_badge")]
    [InlineData("user_name,user_name")]
    public void An_adoption_match_field_that_is_not_a_plain_mapped_field_stops_start_up_with_the_setting_named(string matchOn)
    {
        using var provider = Build(new() { ["Provisioning:Adoption:MatchOn"] = matchOn });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ProvisioningOptions>>().Value);

        Assert.Contains("Provisioning:Adoption:MatchOn", ex.Message);
    }

    [Theory]
    [InlineData("display_name")]
    [InlineData("name,name")]
    public void A_group_adoption_field_other_than_name_or_email_stops_start_up_with_the_setting_named(string matchOn)
    {
        using var provider = Build(new() { ["Provisioning:Adoption:GroupMatchOn"] = matchOn });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ProvisioningOptions>>().Value);

        Assert.Contains("Provisioning:Adoption:GroupMatchOn", ex.Message);
    }

    [Fact]
    public void Adoption_matches_on_user_name_then_email_by_default()
    {
        using var provider = Build([]);

        Assert.Equal(["user_name", "email"], provider.GetRequiredService<IOptions<ProvisioningOptions>>().Value.Adoption.MatchFields);
    }

    [Fact]
    public void Managers_come_before_their_reports_in_the_fan_out()
    {
        var managerOf = new Dictionary<string, string?>
        {
            ["report"] = "middle",
            ["middle"] = "top",
            ["top"] = null,
            ["loner"] = "someone-outside-the-run",
            ["cycle-a"] = "cycle-b",
            ["cycle-b"] = "cycle-a",
        };

        var ordered = FullSyncRunner.ManagersFirst(managerOf);

        Assert.True(ordered.IndexOf("top") < ordered.IndexOf("middle"));
        Assert.True(ordered.IndexOf("middle") < ordered.IndexOf("report"));
        Assert.Equal(managerOf.Count, ordered.Distinct().Count());
    }
}
