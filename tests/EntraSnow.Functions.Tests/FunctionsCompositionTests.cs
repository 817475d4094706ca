using System.Reflection;
using EntraSnow.Functions.Consumers;
using EntraSnow.Functions.Intake;
using EntraSnow.Functions.Timers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Tests;

/// <summary>The Functions app's composition, built as the host builds it, with the settings azd provisions.</summary>
public sealed class FunctionsCompositionTests
{
    internal static Dictionary<string, string?> AzureSettings() => new()
    {
        ["Graph:ClientState"] = "a-client-state-of-enough-length",
        ["Graph:TenantId"] = "00000000-0000-4000-8000-000000000001",
        ["Graph:ClientId"] = "00000000-0000-4000-8000-000000000002",
        ["Graph:Credential"] = "ManagedIdentity",
        ["Graph:ManagedIdentityClientId"] = "00000000-0000-4000-8000-000000000003",
        ["ServiceBus:FullyQualifiedNamespace"] = "example.servicebus.windows.net",
        ["ServiceNow:InstanceUrl"] = "https://dev00000.service-now.com",
        ["ServiceNow:AuthMode"] = "OAuth",
        ["ServiceNow:ClientId"] = "client",
        ["ServiceNow:ClientSecret"] = "secret",
        ["ServiceNowWebhook:SigningSecret"] = "a-webhook-signing-secret-from-key-vault",
        ["Subscriptions:NotificationUrl"] = "https://example.azurewebsites.net/api/graph/notifications",
        ["Subscriptions:LifecycleNotificationUrl"] = "https://example.azurewebsites.net/api/graph/lifecycle",
        ["AzureTables:Endpoint"] = "https://example.table.core.windows.net",
        ["Risk:Incident:AssignmentGroup"] = "Security Operations",
        ["AZURE_CLIENT_ID"] = "00000000-0000-4000-8000-000000000003",
    };

    internal static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddEntraSnowFunctions(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void Every_function_class_resolves_with_the_settings_azd_provisions()
    {
        using var provider = Build(AzureSettings());

        Assert.NotNull(provider.GetRequiredService<GraphNotificationFunctions>());
        Assert.NotNull(provider.GetRequiredService<QueueConsumerFunctions>());
        Assert.NotNull(provider.GetRequiredService<EntraSnow.Functions.ServiceNow.ServiceNowWebhookFunctions>());
        Assert.NotNull(provider.GetRequiredService<ScheduledJobFunctions>());
    }

    [Fact]
    public void Every_setting_section_validates_with_the_settings_azd_provisions()
    {
        using var provider = Build(AzureSettings());

        var validators = provider.GetServices<IStartupValidator>().ToList();

        Assert.NotEmpty(validators);
        Assert.All(validators, v => v.Validate());
    }

    [Fact]
    public void Every_class_with_functions_is_registered()
    {
        using var provider = Build(AzureSettings());
        var functionClasses = typeof(FunctionsComposition).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttributes().Any(a => a.GetType().Name == "FunctionAttribute")));

        Assert.All(functionClasses, t => Assert.NotNull(provider.GetService(t)));
    }

    [Fact]
    public void Missing_client_state_fails_at_start_up_with_a_message_that_names_the_setting()
    {
        var settings = AzureSettings();
        settings.Remove("Graph:ClientState");
        using var provider = Build(settings);

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EntraSnow.Flows.Intake.GraphIntakeOptions>>().Value);

        Assert.Contains("Graph:ClientState", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("https://example.servicebus.windows.net/")]
    public void A_missing_or_malformed_Service_Bus_namespace_fails_at_start_up_naming_the_setting(string? value)
    {
        var settings = AzureSettings();
        settings["ServiceBus:FullyQualifiedNamespace"] = value;
        using var provider = Build(settings);

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EntraSnow.Functions.Messaging.ServiceBusOptions>>().Value);

        Assert.Contains("ServiceBus:FullyQualifiedNamespace", error.Message, StringComparison.Ordinal);
    }
}
