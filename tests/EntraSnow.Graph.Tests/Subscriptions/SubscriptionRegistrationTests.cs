using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using EntraSnow.Flows.Stores;
using EntraSnow.Flows.Subscriptions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace EntraSnow.Graph.Tests.Subscriptions;

public sealed class SubscriptionRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddLogging()
            .AddSingleton(Substitute.For<IGraphSubscriptions>())
            .AddSingleton(Substitute.For<IMessageQueue>())
            .AddSingleton(Substitute.For<ICheckpointStore>())
            .AddSubscriptionUpkeep(configuration)
            .BuildServiceProvider();
    }

    [Fact]
    public void The_host_gets_an_upkeep_job_that_runs_on_start_and_a_lifecycle_consumer()
    {
        using var provider = Build(new()
        {
            ["Graph:ClientState"] = "secret",
            ["Subscriptions:NotificationUrl"] = "https://func.example/api/graph/notifications",
            ["Subscriptions:UpkeepInterval"] = "00:30:00",
        });

        var job = Assert.Single(provider.GetServices<IScheduledJob>());
        Assert.Equal("subscription-upkeep", job.Name);
        Assert.True(job.RunOnStart);
        Assert.Equal(TimeSpan.FromMinutes(30), job.Interval);
        Assert.Equal(QueueNames.SubscriptionLifecycle, Assert.Single(provider.GetServices<IMessageHandler>()).Queue);
        Assert.Equal(["/users", "/groups"], provider.GetRequiredService<IOptions<SubscriptionOptions>>().Value.SubscribedResources);
    }

    [Fact]
    public void Configured_resources_replace_the_defaults()
    {
        using var provider = Build(new()
        {
            ["Graph:ClientState"] = "secret",
            ["Subscriptions:NotificationUrl"] = "https://func.example/api/graph/notifications",
            ["Subscriptions:Resources:0"] = "/groups",
        });

        Assert.Equal(["/groups"], provider.GetRequiredService<IOptions<SubscriptionOptions>>().Value.SubscribedResources);
    }

    [Theory]
    [InlineData(null, "https://func.example/api/graph/notifications", "41000")]
    [InlineData("secret", null, "41000")]
    [InlineData("secret", "http://func.example/api/graph/notifications", "41000")]
    [InlineData("secret", "https://func.example/api/graph/notifications", "41761")]
    public void Incomplete_or_out_of_range_settings_fail_at_start_up(string? clientState, string? notificationUrl, string expirationMinutes)
    {
        using var provider = Build(new()
        {
            ["Graph:ClientState"] = clientState,
            ["Subscriptions:NotificationUrl"] = notificationUrl,
            ["Subscriptions:ExpirationMinutes"] = expirationMinutes,
        });

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SubscriptionOptions>>().Value);
        Assert.DoesNotContain("secret", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Event_grid_delivery_needs_all_four_partner_topic_settings()
    {
        using var provider = Build(new()
        {
            ["Graph:ClientState"] = "secret",
            ["Subscriptions:Delivery"] = "EventGrid",
            ["Subscriptions:EventGrid:AzureSubscriptionId"] = "sub",
            ["Subscriptions:EventGrid:ResourceGroup"] = "rg",
        });

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SubscriptionOptions>>().Value);
    }
}
