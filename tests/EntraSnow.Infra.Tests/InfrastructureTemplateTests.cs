using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EntraSnow.Flows.Messaging;

namespace EntraSnow.Infra.Tests;

/// <summary>What matters in the ARM template `azd provision` deploys, asserted on the compiled output of infra/main.bicep.</summary>
public sealed partial class InfrastructureTemplateTests(CompiledTemplate template) : IClassFixture<CompiledTemplate>
{
    // Built-in roles that would hand out far more than data access.
    private static readonly Dictionary<string, string> BroadRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"] = "Owner",
        ["b24988ac-6180-42a0-ab88-20f7382dd24c"] = "Contributor",
        ["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"] = "User Access Administrator",
        ["f58310d9-a9f6-439a-9e8d-f62e7b41a168"] = "Role Based Access Control Administrator",
        ["090c5cfd-751d-490a-894a-3ce6f1109419"] = "Azure Service Bus Data Owner",
        ["17d1049b-9a84-46fb-8f53-869881c3d3ab"] = "Storage Account Contributor",
        ["00482a5a-887f-4fb3-b363-3baf46b0f81a"] = "Key Vault Administrator",
        ["f25e0fa2-a7c8-4377-a976-54943a77a395"] = "Key Vault Contributor",
        ["de139f84-1756-47ae-9be6-808fbbe84772"] = "Website Contributor",
    };

    [Fact]
    public async Task Bicep_build_and_lint_pass_without_a_single_warning()
    {
        Assert.DoesNotContain("Warning", template.Build.StandardError, StringComparison.OrdinalIgnoreCase);

        var lint = await BicepCli.RunAsync("lint", "main.bicep");

        Assert.True(lint.ExitCode == 0, $"bicep lint failed:\n{lint.StandardOutput}\n{lint.StandardError}");
        Assert.DoesNotContain("Warning", lint.StandardOutput + lint.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Error", lint.StandardOutput + lint.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Modules_are_local_files_so_the_build_needs_no_registry()
    {
        var infra = Repository.PathOf("infra");
        var references = Directory.EnumerateFiles(infra, "*.bicep", SearchOption.AllDirectories)
            .SelectMany(file => ModuleReference().Matches(File.ReadAllText(file)).Select(m => (file, path: m.Groups["path"].Value)))
            .ToList();

        Assert.NotEmpty(references);
        Assert.All(references, r =>
        {
            Assert.DoesNotContain(':', r.path); // br:, ts:, br/public: would fetch from a registry
            Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(r.file)!, r.path)), $"{r.file} references missing module {r.path}");
        });
    }

    [Fact]
    public void The_function_app_runs_on_Flex_Consumption_with_dotnet_isolated_10_and_its_user_assigned_identity()
    {
        var plan = template.OnlyResource("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);

        var site = template.OnlyResource("Microsoft.Web/sites");
        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);
        Assert.Contains("'azd-service-name', 'functions'", (string?)site["tags"]);

        var config = site["properties"]!["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", (string?)config["runtime"]!["name"]);
        Assert.Equal("10.0", (string?)config["runtime"]!["version"]);

        // The deployment package is fetched with the identity, not with a storage key or SAS.
        var storage = config["deployment"]!["storage"]!;
        Assert.Equal("blobContainer", (string?)storage["type"]);
        Assert.Equal("UserAssignedIdentity", (string?)storage["authentication"]!["type"]);
        Assert.Contains("userAssignedIdentities", (string?)storage["authentication"]!["userAssignedIdentityResourceId"]);
    }

    [Fact]
    public void The_function_app_answers_only_over_https_with_TLS_1_2_or_later_and_FTP_off()
    {
        var site = template.OnlyResource("Microsoft.Web/sites");
        var properties = site["properties"]!;
        Assert.True((bool)properties["httpsOnly"]!);
        Assert.True(IsTls12OrLater((string?)properties["siteConfig"]!["minTlsVersion"]));
        Assert.True(IsTls12OrLater((string?)properties["siteConfig"]!["scmMinTlsVersion"]));
        Assert.Equal("Disabled", (string?)properties["siteConfig"]!["ftpsState"]);

        var publishing = template.ResourcesOfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(2, publishing.Count);
        Assert.All(publishing, p => Assert.False((bool)p["properties"]!["allow"]!));
    }

    [Fact]
    public void No_shared_key_SAS_or_connection_string_appears_anywhere()
    {
        string[] forbidden =
        [
            "listKeys(", "listConnectionStrings(", "listAccountSas(", "listServiceSas(", "listAuthKeys(",
            "AccountKey=", "SharedAccessKey", "SharedAccessSignature", "DefaultEndpointsProtocol", "InstrumentationKey=",
            "AzureWebJobsStorage\"", "'AzureWebJobsStorage'",
        ];

        Assert.All(forbidden, f => Assert.DoesNotContain(f, template.Json, StringComparison.OrdinalIgnoreCase));

        var storage = template.OnlyResource("Microsoft.Storage/storageAccounts")["properties"]!;
        Assert.False((bool)storage["allowSharedKeyAccess"]!);
        Assert.False((bool)storage["allowBlobPublicAccess"]!);
        Assert.True((bool)storage["supportsHttpsTrafficOnly"]!);
        Assert.Equal("TLS1_2", (string?)storage["minimumTlsVersion"]);
    }

    [Fact]
    public void Local_authentication_is_off_on_Service_Bus_Application_Insights_and_Log_Analytics()
    {
        var serviceBus = template.OnlyResource("Microsoft.ServiceBus/namespaces")["properties"]!;
        Assert.True((bool)serviceBus["disableLocalAuth"]!);
        Assert.Equal("1.2", (string?)serviceBus["minimumTlsVersion"]);

        Assert.True((bool)template.OnlyResource("Microsoft.Insights/components")["properties"]!["DisableLocalAuth"]!);
        Assert.True((bool)template.OnlyResource("Microsoft.OperationalInsights/workspaces")["properties"]!["features"]!["disableLocalAuth"]!);
    }

    [Fact]
    public void Every_queue_of_the_code_exists_with_sessions_duplicate_detection_and_dead_lettering()
    {
        var provisioned = template.Root["variables"]!["queueNames"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Equal(QueueNames.All.Order(), provisioned.Order());
        Assert.Equal("[variables('queueNames')]", (string?)template.ModuleParameters("serviceBus")["queueNames"]!["value"]);

        var queues = template.OnlyResource("Microsoft.ServiceBus/namespaces/queues");
        Assert.Equal("[length(parameters('queueNames'))]", (string?)queues["copy"]!["count"]);

        var properties = queues["properties"]!;
        Assert.True((bool)properties["requiresSession"]!);
        Assert.True((bool)properties["requiresDuplicateDetection"]!);
        Assert.True((bool)properties["deadLetteringOnMessageExpiration"]!);

        var parameters = template.Module("serviceBus")["parameters"]!;
        Assert.Equal("[parameters('maxDeliveryCount')]", (string?)properties["maxDeliveryCount"]);
        Assert.InRange((int)parameters["maxDeliveryCount"]!["defaultValue"]!, 5, 20);
        Assert.Equal("[parameters('lockDuration')]", (string?)properties["lockDuration"]);
        Assert.InRange(System.Xml.XmlConvert.ToTimeSpan((string)parameters["lockDuration"]!["defaultValue"]!), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));
        Assert.InRange(System.Xml.XmlConvert.ToTimeSpan((string)parameters["duplicateDetectionWindow"]!["defaultValue"]!), TimeSpan.FromMinutes(1), TimeSpan.FromDays(1));
    }

    [Fact]
    public void The_tables_the_store_uses_exist_and_the_app_reaches_them_with_the_identity()
    {
        // The table store names its tables tablePrefix + "Checkpoints", + "LogByCorrelation", ... in its source.
        var storeSources = Directory.EnumerateFiles(Repository.PathOf("src", "EntraSnow.Stores.AzureTables"), "*.cs")
            .Select(File.ReadAllText);
        var used = storeSources.SelectMany(source => TableSuffix().Matches(source).Select(m => m.Groups["suffix"].Value)).Distinct().ToList();
        var provisioned = template.Root["variables"]!["tableSuffixes"]!.AsArray().Select(n => (string)n!).ToList();

        Assert.NotEmpty(used);
        Assert.Equal(used.Order(), provisioned.Order());
        Assert.Equal("[format('{0}{1}', variables('tablePrefix'), variables('tableSuffixes')[copyIndex('value')])]",
            (string?)template.ModuleParameters("storage")["tableNames"]!["copy"]![0]!["input"]);
        Assert.NotNull(template.OnlyResource("Microsoft.Storage/storageAccounts/tableServices/tables")["copy"]);

        var settings = AppSettingsExpression();
        Assert.Contains("'AzureTables__TablePrefix', parameters('tablePrefix')", settings);
        Assert.Contains("'AzureTables__Endpoint'", settings);
        Assert.Contains("'AzureTables__ManagedIdentityClientId'", settings);
        Assert.DoesNotContain("AzureTables__ConnectionString", settings);
    }

    [Fact]
    public void The_identity_gets_exactly_the_data_roles_the_code_needs_each_on_its_own_resource()
    {
        var identityGrants = template.Module("roles")["variables"]!["identityGrants"]!.AsArray()
            .Select(g => ((string)g!["resource"]!, (string)g["role"]!)).ToHashSet();

        Assert.Equal(
            new HashSet<(string, string)>
            {
                ("serviceBus", "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"), // Azure Service Bus Data Sender
                ("serviceBus", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"), // Azure Service Bus Data Receiver
                ("storage", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"), // Storage Blob Data Owner
                ("storage", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"), // Storage Table Data Contributor
                ("keyVault", "4633458b-17de-408a-b874-0445c86b69e6"), // Key Vault Secrets User
                ("applicationInsights", "3913510d-42f4-4e42-8a64-420c390055eb"), // Monitoring Metrics Publisher
            },
            identityGrants);

        // Each assignment is scoped to one resource, never the resource group or the subscription.
        var assignments = template.ResourcesOfType("Microsoft.Authorization/roleAssignments").ToList();
        Assert.Equal(4, assignments.Count);
        var scopes = assignments.Select(a => (string?)a["scope"]).ToList();
        Assert.All(scopes, s => Assert.StartsWith("[resourceId('Microsoft.", s));
        Assert.Equal(
            ["Microsoft.Insights/components", "Microsoft.KeyVault/vaults", "Microsoft.ServiceBus/namespaces", "Microsoft.Storage/storageAccounts"],
            scopes.Select(s => ScopeType().Match(s!).Groups["type"].Value).Order());
    }

    [Fact]
    public void No_role_broader_than_data_access_is_assigned_to_anyone()
    {
        var granted = RoleId().Matches(template.Json).Select(m => m.Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.All(BroadRoles, broad => Assert.DoesNotContain(broad.Key, granted));

        var userGrants = template.Module("roles")["variables"]!["userGrants"]!.AsArray().Select(g => (string)g!["roleName"]!).ToList();
        Assert.DoesNotContain(userGrants, r => r.Contains("Owner", StringComparison.Ordinal) && !r.StartsWith("Storage Blob", StringComparison.Ordinal));
        Assert.DoesNotContain(userGrants, r => r.EndsWith("Contributor", StringComparison.Ordinal) && !r.StartsWith("Storage Table", StringComparison.Ordinal));
    }

    [Fact]
    public void Key_Vault_uses_RBAC_with_soft_delete_and_purge_protection()
    {
        var vault = template.OnlyResource("Microsoft.KeyVault/vaults")["properties"]!;
        Assert.True((bool)vault["enableRbacAuthorization"]!);
        Assert.True((bool)vault["enableSoftDelete"]!);
        Assert.True((bool)vault["enablePurgeProtection"]!);
        Assert.Null(vault["accessPolicies"]);
    }

    [Fact]
    public void Every_secret_reaches_the_app_as_a_Key_Vault_reference_resolved_by_the_identity()
    {
        var settings = AppSettingsExpression();
        string[] secrets = ["Graph__ClientState", "Graph__PreviousClientState", "ServiceNow__ClientSecret", "ServiceNow__Password", "ServiceNowWebhook__SigningSecret", "ServiceNowWebhook__PreviousSigningSecret"];

        foreach (var secret in secrets)
        {
            var values = Regex.Matches(settings, $"'{secret}', (?<value>[^,]+)").Select(m => m.Groups["value"].Value).ToList();
            Assert.NotEmpty(values);
            Assert.All(values, v => Assert.StartsWith("format('@Microsoft.KeyVault(SecretUri={0}/", v));
        }

        // Any setting whose name says it is secret is a Key Vault reference too.
        var secretLike = SettingName().Matches(settings).Select(m => m.Groups["name"].Value)
            .Where(n => SecretName().IsMatch(n)).Distinct().ToList();
        Assert.Equal(secrets.Order(), secretLike.Order());

        var site = template.OnlyResource("Microsoft.Web/sites")["properties"]!;
        Assert.Contains("userAssignedIdentities", (string?)site["keyVaultReferenceIdentity"]);
    }

    [Fact]
    public void Every_Key_Vault_secret_the_app_reads_is_seeded_by_both_hooks_and_documented()
    {
        var referenced = KeyVaultSecret().Matches(AppSettingsExpression()).Select(m => m.Groups["name"].Value).Distinct().ToList();
        var docs = Repository.ReadText("docs", "deploy.md");
        var hooks = new[] { "postprovision.sh", "postprovision.ps1" }.Select(h => Repository.ReadText("infra", "hooks", h)).ToList();

        Assert.Equal(
            ["graph-client-state", "graph-previous-client-state", "servicenow-client-secret", "servicenow-password", "servicenow-webhook-previous-signing-secret", "servicenow-webhook-signing-secret"],
            referenced.Order());
        Assert.All(referenced, name => Assert.Contains($"`{name}`", docs));

        // The previous values exist only during a rotation, which docs/runbook.md walks through by hand.
        string[] previous = ["graph-previous-client-state", "servicenow-webhook-previous-signing-secret"];
        Assert.All(referenced.Except(previous), name => Assert.All(hooks, hook => Assert.Contains($"{name}", hook)));
    }

    [Fact]
    public void Every_parameter_without_a_default_comes_from_the_azd_environment()
    {
        var supplied = JsonNode.Parse(Repository.ReadText("infra", "main.parameters.json"))!["parameters"]!.AsObject().Select(p => p.Key).ToHashSet();
        var required = template.Root["parameters"]!.AsObject().Where(p => p.Value!["defaultValue"] is null).Select(p => p.Key).ToList();

        Assert.Contains("serviceNowInstanceUrl", required);
        Assert.Contains("serviceNowAccount", required);
        Assert.All(required, name => Assert.Contains(name, supplied));
    }

    [Fact]
    public void Storage_Service_Bus_Graph_and_telemetry_connect_with_the_identity()
    {
        var settings = AppSettingsExpression();

        Assert.Contains("'AzureWebJobsStorage__credential', 'managedidentity'", settings);
        Assert.Contains("'AzureWebJobsStorage__clientId'", settings);
        Assert.Contains("'AzureWebJobsStorage__blobServiceUri'", settings);
        Assert.Contains("'ServiceBusConnection__fullyQualifiedNamespace'", settings);
        Assert.Contains("'ServiceBusConnection__credential', 'managedidentity'", settings);
        Assert.Contains("'ServiceBusConnection__clientId'", settings);
        Assert.Contains("'ServiceBus__FullyQualifiedNamespace'", settings);
        Assert.Contains("'Graph__Credential', 'ManagedIdentity'", settings);
        Assert.Contains("'Graph__ManagedIdentityClientId'", settings);
        Assert.Contains("'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', format('ClientId={0};Authorization=AAD'", settings);

        // Flex Consumption rejects these; the runtime comes from functionAppConfig.
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", settings);
        Assert.DoesNotContain("WEBSITE_RUN_FROM_PACKAGE", settings);
    }

    [Fact]
    public void The_outputs_azd_and_the_hooks_read_are_there_and_none_is_secret()
    {
        var outputs = template.Root["outputs"]!.AsObject().Select(o => o.Key).ToList();
        string[] needed =
        [
            "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME", "AZURE_FUNCTION_APP_ID",
            "AZURE_MANAGED_IDENTITY_PRINCIPAL_ID", "AZURE_KEY_VAULT_NAME", "AZURE_SERVICE_BUS_NAMESPACE", "EVENT_DELIVERY", "EVENTGRID_PARTNER_TOPIC",
            "SERVICENOW_AUTH_MODE",
        ];
        Assert.All(needed, n => Assert.Contains(n, outputs));
        Assert.DoesNotContain(outputs, o => SecretName().IsMatch(o) || o.Contains("CONNECTION_STRING", StringComparison.Ordinal));
    }

    [Fact]
    public void Event_Grid_partner_authorization_is_deployed_only_for_Event_Grid_delivery()
    {
        var module = template.Root["resources"]!["eventGrid"]!;
        Assert.Equal("[equals(parameters('eventDelivery'), 'eventgrid')]", (string?)module["condition"]);

        var partner = template.OnlyResource("Microsoft.EventGrid/partnerConfigurations");
        var authorized = Assert.Single(partner["properties"]!["partnerAuthorization"]!["authorizedPartnersList"]!.AsArray());
        Assert.Equal("MicrosoftGraphAPI", (string?)authorized!["partnerName"]);
    }

    private string AppSettingsExpression()
    {
        var config = Assert.Single(template.ResourcesOfType("Microsoft.Web/sites/config"), c => ((string?)c["name"])!.Contains("'appsettings'", StringComparison.Ordinal));
        return config["properties"] switch
        {
            JsonValue expression => (string)expression!,
            var other => other!.ToJsonString(),
        };
    }

    private static bool IsTls12OrLater(string? version) =>
        Version.TryParse(version, out var v) && v >= new Version(1, 2);

    [GeneratedRegex(@"^\s*module\s+\w+\s+'(?<path>[^']+)'", RegexOptions.Multiline)]
    private static partial Regex ModuleReference();

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex RoleId();

    [GeneratedRegex(@"[tT]ablePrefix \+ ""(?<suffix>[A-Za-z0-9]+)""")]
    private static partial Regex TableSuffix();

    [GeneratedRegex(@"SecretUri=\{0\}/(?<name>[a-z0-9-]+)\)")]
    private static partial Regex KeyVaultSecret();

    [GeneratedRegex(@"resourceId\('(?<type>[^']+)'")]
    private static partial Regex ScopeType();

    [GeneratedRegex(@"'(?<name>[A-Za-z][A-Za-z0-9]*__[A-Za-z0-9_]+|[A-Z][A-Z0-9_]+)', ")]
    private static partial Regex SettingName();

    [GeneratedRegex(@"(Secret|Password|ClientState|Key)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}
