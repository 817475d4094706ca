using System.Reflection;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Functions.Sweep;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;

namespace EntraSnow.Functions.Tests;

public sealed class InactiveSweepFunctionsTests
{
    [Fact]
    public void The_sweep_timer_reads_its_schedule_from_the_setting_the_flow_validates()
    {
        var trigger = typeof(InactiveSweepFunctions).GetMethod(nameof(InactiveSweepFunctions.InactiveSweep))!
            .GetParameters()[0].GetCustomAttribute<TimerTriggerAttribute>()!;

        Assert.Equal($"%{InactiveSweepOptions.Section}:{nameof(InactiveSweepOptions.Schedule)}%", trigger.Schedule);
    }

    [Fact]
    public async Task The_sweep_timer_runs_the_sweep_when_it_is_enabled()
    {
        var settings = FunctionsCompositionTests.AzureSettings();
        settings["InactiveSweep:Enabled"] = "true";
        settings["InactiveSweep:AssignmentGroup"] = "Identity Reviews";
        var references = Substitute.For<IServiceNowReferences>();
        references.FindAsync("sys_user_group", "name", "Identity Reviews", Arg.Any<CancellationToken>()).Returns((string?)null);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddEntraSnowFunctions(configuration);
        services.AddSingleton(references);
        await using var provider = services.BuildServiceProvider();

        // The flow's first step is resolving the review group: its refusal proves the timer reached the sweep.
        var error = await Assert.ThrowsAsync<MissingAssignmentGroupException>(() =>
            provider.GetRequiredService<InactiveSweepFunctions>().InactiveSweep(new TimerInfo(), CancellationToken.None));

        Assert.Contains("InactiveSweep:AssignmentGroup 'Identity Reviews'", error.Message, StringComparison.Ordinal);
        await references.Received(1).FindAsync("sys_user_group", "name", "Identity Reviews", Arg.Any<CancellationToken>());
    }
}
