using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EntraSnow.SchemaCheck;
using static EntraSnow.Infra.Tests.AppSettingsFunctions;

namespace EntraSnow.Infra.Tests;

/// <summary>
/// APP_SETTINGS, the azd environment value that carries the flows' app settings through every `azd provision`: how the
/// compiled template joins it to the deployment's own settings (evaluated with the ARM expression engine of
/// <c>bicep console</c>), what it may not set, and that the preprovision hook and the template refuse the same names.
/// </summary>
public sealed partial class AppSettingsTests(CompiledTemplate template) : IClassFixture<CompiledTemplate>
{
    private const string DeploymentsValue = "the deployment's value";

    // README's Configuration sections a platform team tunes per environment; their settings are what APP_SETTINGS is for.
    private static readonly string[] FlowSections = ["Provisioning", "GroupChanges", "PasswordReset", "AccessRequests", "InactiveSweep", "Risk", "Retention", "Messaging"];

    [Fact]
    public async Task A_flow_setting_given_in_APP_SETTINGS_reaches_the_app_settings_beside_the_deployments_own()
    {
        // azd reads APP_SETTINGS as the object parameter appSettings; main.bicep checks it, the app's settings take it.
        var parameters = JsonNode.Parse(Repository.ReadText("infra", "main.parameters.json"))!["parameters"]!;
        Assert.Equal("${APP_SETTINGS}", (string?)parameters["appSettings"]!["value"]);
        Assert.Equal("[__bicep.checkedAppSettings(parameters('appSettings'))]", (string?)template.ModuleParameters("functions")["flowSettings"]!["value"]);
        Assert.StartsWith("[__bicep.mergedAppSettings(variables('flowDefaults'), parameters('flowSettings'), union(", AppSettingsExpression(), StringComparison.Ordinal);

        var given = new JsonObject
        {
            ["InactiveSweep__Enabled"] = "true",
            ["InactiveSweep__AssignmentGroup"] = "Identity and Access Management",
            ["InactiveSweep__Schedule"] = "0 0 5 * * *",
        };
        var result = Assert.Single(await EvaluateAsync($"mergedAppSettings({Json(FlowDefaults())}, checkedAppSettings({Json(given)}), {Json(DeploymentSettings())})"));

        var settings = result.Object;
        Assert.Equal("true", (string?)settings["InactiveSweep__Enabled"]);
        Assert.Equal("Identity and Access Management", (string?)settings["InactiveSweep__AssignmentGroup"]);
        Assert.Equal("0 0 5 * * *", (string?)settings["InactiveSweep__Schedule"]); // a default the operator changed
        Assert.Equal((string?)FlowDefaults()["Risk__PollSchedule"], (string?)settings["Risk__PollSchedule"]); // one left alone
        Assert.All(DeploymentSettingNames(), name => Assert.Equal(DeploymentsValue, (string?)settings[name]));
    }

    [Fact]
    public async Task A_setting_the_deployment_writes_given_in_APP_SETTINGS_never_replaces_the_deployments_value()
    {
        var names = DeploymentSettingNames();
        Assert.Contains("Graph__TenantId", names);
        Assert.Contains("ServiceBusConnection__fullyQualifiedNamespace", names);
        Assert.Contains("Subscriptions__NotificationUrl", names);
        Assert.Contains("AzureWebJobs.FullSync.Disabled", names);

        // Refused, naming the key, before the app's settings are written...
        var refusals = await RefusalsAsync(names);
        Assert.All(names.Zip(refusals), pair => Assert.False(pair.Second.Length == 0, $"APP_SETTINGS may set {pair.First}, which the deployment writes"));
        var refused = Assert.Single(await EvaluateAsync("checkedAppSettings({Graph__TenantId: 'another-tenant', Risk__Enabled: 'false'})"));
        Assert.Null(refused.Value);
        Assert.StartsWith("APP_SETTINGS: Graph__TenantId is set by the deployment", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Risk__Enabled", refused.Error, StringComparison.Ordinal);

        // ...and were one let through, the deployment's value still wins, over any casing of the name.
        var overriding = new JsonObject(names.Select(n => KeyValuePair.Create(n.ToLowerInvariant(), (JsonNode?)"the operator's value")));
        var merged = Assert.Single(await EvaluateAsync($"mergedAppSettings({Json(FlowDefaults())}, {Json(overriding)}, {Json(DeploymentSettings())})")).Object;
        Assert.All(names, name => Assert.Equal(DeploymentsValue, (string?)merged[name]));
    }

    [Fact]
    public async Task APP_SETTINGS_naming_a_secret_fails_the_deployment_naming_the_key_and_never_the_value()
    {
        var refused = Assert.Single(await EvaluateAsync(
            "checkedAppSettings({ServiceNow__Password: 'hunter2-pasted-by-mistake', ServiceNowWebhook__SigningSecret: 'another-secret-value', InactiveSweep__Enabled: 'true'})"));

        Assert.Null(refused.Value);
        Assert.Contains("ServiceNow__Password names a secret", refused.Error, StringComparison.Ordinal);
        Assert.Contains("ServiceNowWebhook__SigningSecret names a secret", refused.Error, StringComparison.Ordinal);
        Assert.Contains("Key Vault", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("another-secret-value", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("InactiveSweep__Enabled", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unset_APP_SETTINGS_deploys_the_deployments_settings_and_the_schedules_defaults_only()
    {
        var parameter = template.Root["parameters"]!["appSettings"]!;
        Assert.Equal("object", (string?)parameter["type"]);
        Assert.Equal("string", (string?)parameter["additionalProperties"]!["type"]); // a value that is no string fails before anything is deployed
        Assert.Empty(parameter["defaultValue"]!.AsObject());

        // azd leaves a parameter whose environment value is unset to its default from 1.23.4 on (before, it substituted
        // the JSON text into the parameters file), so azure.yaml asks for it.
        var yaml = YamlJson.Convert(Repository.ReadText("azure.yaml"))!;
        Assert.Equal(">= 1.23.4", (string?)yaml["requiredVersions"]!["azd"]);

        var settings = Assert.Single(await EvaluateAsync($"mergedAppSettings({Json(FlowDefaults())}, checkedAppSettings(json('{{}}')), {Json(DeploymentSettings())})")).Object;

        Assert.Equal(FlowDefaults().Select(s => s.Key).Concat(DeploymentSettingNames()).Order(StringComparer.OrdinalIgnoreCase), settings.Select(s => s.Key).Order(StringComparer.OrdinalIgnoreCase));
        Assert.Equal(["InactiveSweep__Schedule", "Retention__Schedule", "Risk__PollSchedule"], FlowDefaults().Select(s => s.Key).Order());
    }

    [Fact]
    public async Task Every_flow_setting_the_README_documents_may_be_given_in_APP_SETTINGS_and_the_hook_and_the_template_refuse_the_same_others()
    {
        var flowSettings = DocumentedFlowSettings();
        Assert.Contains("InactiveSweep__BreakGlassGroupIds__0", flowSettings);
        Assert.Contains("GroupChanges__SensitiveGroups__0__GroupId", flowSettings);
        Assert.Contains("AccessRequests__AllowedGroupIds__0", flowSettings);
        string[] secrets = ["Graph__ClientSecret", "Graph__CertificatePassword", "ServiceBus__ConnectionString", "AzureTables__ConnectionString", "Subscriptions__ClientState", "ServiceNow__ClientSecret"];
        // The risk incidents' group has its own azd value (RISK_ASSIGNMENT_GROUP), so it is not one of APP_SETTINGS'.
        var mayBeGiven = flowSettings.Where(s => s != "Risk__Incident__AssignmentGroup").ToList();
        var names = flowSettings.Concat(DeploymentSettingNames()).Concat(secrets).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        var refusals = await RefusalsAsync(names);
        var refusedByTemplate = names.Zip(refusals).Where(p => p.Second.Length > 0).Select(p => p.First).ToList();

        using var az = new FakeAzureCli();
        var (exitCode, _, error) = await az.RunAsync("infra/hooks/preprovision.sh", new Dictionary<string, string>
        {
            ["APP_SETTINGS"] = new JsonObject(names.Select(n => KeyValuePair.Create(n, (JsonNode?)"x"))).ToJsonString(),
        });
        var refusedByHook = HookRefusal().Matches(error).Select(m => m.Groups["key"].Value).ToList();

        Assert.Equal(names.Except(mayBeGiven).Order(), refusedByTemplate.Order());
        Assert.NotEqual(0, exitCode);
        Assert.Equal(refusedByTemplate.Order(), refusedByHook.Order());
    }

    /// <summary>The settings of README's flow sections as app setting names, a placeholder for each {n}, {field} or *.</summary>
    private static List<string> DocumentedFlowSettings() =>
        ReadmeSetting().Matches(Repository.ReadText("README.md"))
            .Select(m => m.Groups["name"].Value)
            .Where(name => FlowSections.Contains(name.Split(':')[0]))
            .Select(name => name.Replace("{n}", "0", StringComparison.Ordinal).Replace("{field}", "title", StringComparison.Ordinal)
                .Replace("{level}", "high", StringComparison.Ordinal).Replace(":*", ":Enabled", StringComparison.Ordinal).Replace(":", "__", StringComparison.Ordinal))
            .Concat(ReadmeListSetting().Matches(Repository.ReadText("README.md")).Select(m => m.Groups["name"].Value.Replace(":", "__", StringComparison.Ordinal) + "__0"))
            .Distinct()
            .ToList();

    private JsonObject FlowDefaults() => template.Module("functions")["variables"]!["flowDefaults"]!.AsObject();

    /// <summary>Every name in the deployment's own settings (the third argument of mergedAppSettings), one function turned off.</summary>
    private List<string> DeploymentSettingNames()
    {
        var expression = AppSettingsExpression();
        var deployment = expression[expression.IndexOf("parameters('flowSettings'), ", StringComparison.Ordinal)..];
        Assert.Contains("variables('disabledFunctionSettings')", deployment, StringComparison.Ordinal);
        Assert.Contains("'AzureWebJobs.{0}.Disabled'", (string?)template.Module("functions")["variables"]!["disabledFunctionSettings"], StringComparison.Ordinal);
        return [.. SettingName().Matches(deployment).Select(m => m.Groups["name"].Value).Distinct(), "AzureWebJobs.FullSync.Disabled"];
    }

    private JsonObject DeploymentSettings() => new(DeploymentSettingNames().Select(n => KeyValuePair.Create(n, (JsonNode?)DeploymentsValue)));

    private string AppSettingsExpression()
    {
        var config = Assert.Single(template.ResourcesOfType("Microsoft.Web/sites/config"), c => ((string?)c["name"])!.Contains("'appsettings'", StringComparison.Ordinal));
        return (string)config["properties"]!;
    }

    [GeneratedRegex(@"'(?<name>[A-Za-z][A-Za-z0-9]*__[A-Za-z0-9_]+|[A-Z][A-Z0-9_]+)', ")]
    private static partial Regex SettingName();

    // A row of README's Configuration tables: | `Section:Name` | (or several names, comma-separated, in the first cell).
    [GeneratedRegex(@"(?<=^\|[^|\n]*)`(?<name>[A-Za-z]+(?::[A-Za-z{}*]+)+)`(?=[^|\n]*\|)", RegexOptions.Multiline)]
    private static partial Regex ReadmeSetting();

    // Settings README documents as lists of ids (bound to string arrays): in app settings each entry is Name__0, Name__1, ...
    [GeneratedRegex(@"`(?<name>(?:InactiveSweep:BreakGlassGroupIds|AccessRequests:AllowedGroupIds|PasswordReset:ProtectedGroupIds|Provisioning:ScopeGroupIds|Provisioning:GroupIds))`")]
    private static partial Regex ReadmeListSetting();

    [GeneratedRegex(@"^preprovision: APP_SETTINGS: (?<key>\S+) ", RegexOptions.Multiline)]
    private static partial Regex HookRefusal();
}
