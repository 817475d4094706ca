using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.Scheduling;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace EntraSnow.Flows.Tests.InactiveSweep;

public sealed class InactiveSweepSetupTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, IDirectory? directory = null, IServiceNowTable? table = null, IServiceNowReferences? references = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton(directory ?? Substitute.For<IDirectory>());
        services.AddSingleton(table ?? Substitute.For<IServiceNowTable>());
        services.AddSingleton(references ?? Substitute.For<IServiceNowReferences>());
        services.AddSingleton(Substitute.For<ICheckpointStore>());
        services.AddInactiveSweep(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    [Theory]
    [InlineData("InactiveSweep:Schedule", "every night", "InactiveSweep:Schedule")]
    [InlineData("InactiveSweep:InactiveDays", "0", "InactiveDays")]
    [InlineData("InactiveSweep:Table", "SC TASK", "InactiveSweep:Table")]
    [InlineData("InactiveSweep:BreakGlassGroupIds:0", "admins", "InactiveSweep:BreakGlassGroupIds:0")]
    [InlineData("InactiveSweep:ServiceAccountAttribute", "employeeType", "InactiveSweep:ServiceAccountValue")]
    public void A_bad_setting_stops_start_up_with_a_message_naming_it(string key, string value, string named)
    {
        using var provider = Build(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<InactiveSweepOptions>>().Value);

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enabling_the_sweep_without_an_assignment_group_stops_start_up_naming_the_setting()
    {
        using var provider = Build(new() { ["InactiveSweep:Enabled"] = "true" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<InactiveSweepOptions>>().Value);

        Assert.Contains("InactiveSweep:AssignmentGroup", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_assignment_group_ServiceNow_does_not_have_fails_naming_the_setting_and_writes_nothing()
    {
        var table = Substitute.For<IServiceNowTable>();
        var directory = Substitute.For<IDirectory>();
        using var provider = Build(new() { ["InactiveSweep:Enabled"] = "true", ["InactiveSweep:AssignmentGroup"] = "Nobody" }, directory, table);

        var error = await Assert.ThrowsAsync<MissingAssignmentGroupException>(() => provider.GetRequiredService<InactiveSweepRunner>().RunAsync());

        Assert.Contains("InactiveSweep:AssignmentGroup 'Nobody'", error.Message, StringComparison.Ordinal);
        Assert.Empty(table.ReceivedCalls());
    }

    [Fact]
    public async Task A_break_glass_group_Graph_does_not_have_stops_the_sweep_before_anything_is_read_or_written()
    {
        var table = Substitute.For<IServiceNowTable>();
        var directory = Substitute.For<IDirectory>();
        var references = Substitute.For<IServiceNowReferences>();
        references.FindAsync("sys_user_group", "name", "IAM", Arg.Any<CancellationToken>()).Returns("group-sys-id");
        var groupId = Guid.NewGuid().ToString();
        using var provider = Build(new()
        {
            ["InactiveSweep:Enabled"] = "true",
            ["InactiveSweep:AssignmentGroup"] = "IAM",
            ["InactiveSweep:BreakGlassGroupIds:0"] = groupId,
        }, directory, table, references);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => provider.GetRequiredService<InactiveSweepRunner>().RunAsync());

        Assert.Contains(groupId, error.Message, StringComparison.Ordinal);
        directory.DidNotReceiveWithAnyArgs().GetInactiveCandidatesAsync(default!, default, default);
        Assert.Empty(table.ReceivedCalls());
    }

    [Fact]
    public void The_timer_runs_on_the_configured_schedule_daily_at_three_by_default()
    {
        using var provider = Build(new());
        var job = provider.GetServices<IScheduledJob>().Single(j => j.Name == JobNames.InactiveSweep);

        Assert.Equal("0 0 3 * * *", job.Schedule!.Text);
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 3, 0, 0, TimeSpan.Zero), job.Schedule.NextAfter(new DateTimeOffset(2026, 12, 2, 3, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public async Task The_timer_does_nothing_while_the_sweep_is_not_enabled()
    {
        var directory = Substitute.For<IDirectory>();
        var table = Substitute.For<IServiceNowTable>();
        using var provider = Build(new(), directory, table);

        await provider.GetServices<IScheduledJob>().Single(j => j.Name == JobNames.InactiveSweep).RunAsync(CancellationToken.None);

        Assert.Empty(directory.ReceivedCalls());
        Assert.Empty(table.ReceivedCalls());
    }
}
