using System.Text.Json.Nodes;

namespace EntraSnow.Infra.Tests;

/// <summary>The azd hooks, run for real under sh with a stand-in Azure CLI.</summary>
public sealed class HookScriptTests : IDisposable
{
    private const string IdentityId = "11111111-2222-3333-4444-555555555555";
    private const string GraphSpId = "99999999-8888-7777-6666-555555555555";

    private readonly FakeAzureCli _az = new();
    private readonly Dictionary<string, Guid> _roleIds;

    public HookScriptTests()
    {
        _roleIds = GraphPermissionTests.Names.Distinct().ToDictionary(n => n, _ => Guid.NewGuid());
        var appRoles = new JsonArray(_roleIds.Select(r => (JsonNode)new JsonObject
        {
            ["id"] = r.Value.ToString(),
            ["value"] = r.Key,
            ["allowedMemberTypes"] = new JsonArray("Application"),
        }).ToArray());
        _az.Write("graph-sp.json", new JsonObject { ["id"] = GraphSpId, ["appRoles"] = appRoles }.ToJsonString());
    }

    public void Dispose() => _az.Dispose();

    private static Dictionary<string, string> ProvisionedEnvironment(params (string Key, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["AZURE_MANAGED_IDENTITY_PRINCIPAL_ID"] = IdentityId,
            ["AZURE_KEY_VAULT_NAME"] = "kv-test",
            ["SERVICENOW_AUTH_MODE"] = "OAuth",
            ["KEYVAULT_RETRY_ATTEMPTS"] = "1",
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        return environment;
    }

    [Theory]
    [InlineData("infra/hooks/postprovision.sh")]
    [InlineData("infra/hooks/postdeploy.sh")]
    [InlineData("infra/hooks/preprovision.sh")]
    public async Task Hook_scripts_are_valid_POSIX_shell(string script)
    {
        // azure.yaml runs them with sh, which is dash on Debian: no bash-only syntax may slip in.
        var start = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardError = true };
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add(Repository.PathOf(script));
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, error);
    }

    private List<JsonNode> GrantedBodies() =>
        _az.GrantBodies.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(b => JsonNode.Parse(b)!).ToList();

    private IEnumerable<string> RoleIdsOf(IEnumerable<string> permissions) => permissions.Select(p => _roleIds[p].ToString()).Order();

    [Fact]
    public async Task Postprovision_by_default_grants_only_the_permissions_of_the_flows_every_deployment_runs_and_skips_granted_ones()
    {
        _az.Write("granted.tsv", _roleIds["User.Read.All"] + "\n");
        _az.SetSecret("servicenow-client-secret", "existing");

        var (exitCode, output, error) = await _az.RunAsync("infra/hooks/postprovision.sh", ProvisionedEnvironment());

        Assert.True(exitCode == 0, error);
        var bodies = GrantedBodies();
        Assert.Equal(RoleIdsOf(GraphPermissionTests.EveryDeployment.Where(p => p != "User.Read.All")), bodies.Select(b => (string)b["appRoleId"]!).Order());
        Assert.All(bodies, b =>
        {
            Assert.Equal(IdentityId, (string?)b["principalId"]);
            Assert.Equal(GraphSpId, (string?)b["resourceId"]);
        });
        Assert.Contains("Graph User.Read.All: already granted", output);
        Assert.Contains("Graph AuditLog.Read.All: not needed by the enabled flows", error);
    }

    [Fact]
    public async Task Postprovision_run_again_after_enabling_a_flow_adds_exactly_that_flows_permissions()
    {
        _az.Write("granted.tsv", string.Join("\n", RoleIdsOf(GraphPermissionTests.EveryDeployment)) + "\n");
        _az.SetSecret("servicenow-client-secret", "existing");

        foreach (var (flowEnvironment, adds) in GraphPermissionTests.FlowSwitches)
        {
            var (exitCode, _, error) = await _az.RunAsync("infra/hooks/postprovision.sh", ProvisionedEnvironment([.. flowEnvironment.Select(e => (e.Key, e.Value))]));

            Assert.True(exitCode == 0, error);
            Assert.Equal(RoleIdsOf(adds), GrantedBodies().Select(b => (string)b["appRoleId"]!).Order());
            _az.Write("granted-bodies.log", "");
        }
    }

    [Fact]
    public async Task Postprovision_stops_with_a_clear_message_when_the_user_may_not_grant_Graph_permissions()
    {
        _az.Write("deny", "");

        var (exitCode, _, error) = await _az.RunAsync("infra/hooks/postprovision.sh", ProvisionedEnvironment());

        Assert.NotEqual(0, exitCode);
        Assert.Contains("you may not grant Microsoft Graph application permissions", error);
        Assert.Contains("Privileged Role Administrator", error);
        Assert.Contains("azd hooks run postprovision", error);
    }

    [Fact]
    public async Task Postprovision_generates_missing_secrets_stores_the_given_one_and_never_overwrites_or_prints_them()
    {
        _az.SetSecret("graph-client-state", "kept-as-it-was");
        const string givenSecret = "s3cr3t-from-the-pipeline-0123456789";

        var (exitCode, output, error) = await _az.RunAsync("infra/hooks/postprovision.sh",
            ProvisionedEnvironment(("SERVICENOW_CLIENT_SECRET", givenSecret)));

        Assert.True(exitCode == 0, error);
        Assert.Equal("kept-as-it-was", _az.Secret("graph-client-state"));
        Assert.Matches("^[0-9a-f]{64}$", _az.Secret("servicenow-webhook-signing-secret"));
        Assert.Equal(givenSecret, _az.Secret("servicenow-client-secret"));
        Assert.False(_az.HasSecret("servicenow-password"));

        // Secrets go through files: never on a command line, never in the output.
        var generated = _az.Secret("servicenow-webhook-signing-secret");
        Assert.DoesNotContain(givenSecret, _az.Calls + output + error);
        Assert.DoesNotContain(generated, _az.Calls + output + error);
    }

    [Fact]
    public async Task Postprovision_without_the_ServiceNow_secret_says_how_to_set_it_instead_of_failing()
    {
        var (exitCode, output, error) = await _az.RunAsync("infra/hooks/postprovision.sh",
            ProvisionedEnvironment(("SERVICENOW_AUTH_MODE", "Basic")));

        Assert.True(exitCode == 0, error);
        Assert.False(_az.HasSecret("servicenow-password"));
        Assert.Contains("az keyvault secret set --vault-name kv-test --name servicenow-password", output);
    }

    [Fact]
    public async Task Postdeploy_with_webhook_delivery_changes_nothing()
    {
        var (exitCode, output, _) = await _az.RunAsync("infra/hooks/postdeploy.sh", new Dictionary<string, string> { ["EVENT_DELIVERY"] = "webhook" });

        Assert.Equal(0, exitCode);
        Assert.Contains("nothing to do", output);
        Assert.Equal("", _az.Calls);
    }

    [Fact]
    public async Task Postdeploy_with_Event_Grid_activates_the_partner_topic_and_subscribes_the_function()
    {
        _az.Write("topic-state", "NeverActivated");

        var (exitCode, _, error) = await _az.RunAsync("infra/hooks/postdeploy.sh", EventGridEnvironment());

        Assert.True(exitCode == 0, error);
        var calls = _az.Calls.Split('\n');
        Assert.Contains(calls, c => c.StartsWith("eventgrid partner topic activate -g rg-test -n entrasnow-graph-x", StringComparison.Ordinal));
        var subscribe = Assert.Single(calls, c => c.StartsWith("eventgrid partner topic event-subscription create", StringComparison.Ordinal));
        Assert.Contains("--endpoint /subscriptions/s/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-x/functions/GraphEventGrid", subscribe);
        Assert.Contains("--event-delivery-schema cloudeventschemav1_0", subscribe);
    }

    [Fact]
    public async Task Postdeploy_before_Graph_created_the_partner_topic_says_to_run_it_again()
    {
        var (exitCode, output, _) = await _az.RunAsync("infra/hooks/postdeploy.sh", EventGridEnvironment());

        Assert.Equal(0, exitCode);
        Assert.Contains("azd hooks run postdeploy", output);
        Assert.DoesNotContain("event-subscription", _az.Calls);
    }

    [Fact]
    public async Task Preprovision_lets_flow_settings_through_naming_them_and_calls_nothing()
    {
        var (exitCode, output, error) = await _az.RunAsync("infra/hooks/preprovision.sh", new Dictionary<string, string>
        {
            ["APP_SETTINGS"] = """{"InactiveSweep__Enabled":"true","InactiveSweep__AssignmentGroup":"Identity and Access Management","Risk__Enabled":"false"}""",
        });

        Assert.True(exitCode == 0, error);
        Assert.Contains("InactiveSweep__Enabled, InactiveSweep__AssignmentGroup, Risk__Enabled", output);
        Assert.DoesNotContain("Identity and Access Management", output + error);
        Assert.Equal("", _az.Calls);
    }

    [Fact]
    public async Task Preprovision_refuses_APP_SETTINGS_naming_a_secret_naming_the_key_and_never_printing_the_value()
    {
        var (exitCode, output, error) = await _az.RunAsync("infra/hooks/preprovision.sh", new Dictionary<string, string>
        {
            ["APP_SETTINGS"] = """{"Risk__Enabled":"false","ServiceNow__ClientSecret":"hunter2-pasted-by-mistake","graph__clientstate":"another-state"}""",
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("APP_SETTINGS: ServiceNow__ClientSecret names a secret", error);
        Assert.Contains("APP_SETTINGS: graph__clientstate names a secret", error);
        Assert.Contains("Key Vault", error);
        Assert.Contains("nothing was deployed", error);
        Assert.DoesNotContain("Risk__Enabled", error);
        Assert.DoesNotContain("hunter2", output + error);
        Assert.DoesNotContain("another-state", output + error);
    }

    [Theory]
    [InlineData("""["InactiveSweep__Enabled"]""", "APP_SETTINGS is a JSON array; it must be one JSON object of setting name to string value")]
    [InlineData("\"InactiveSweep__Enabled=true\"", "APP_SETTINGS is a JSON string; it must be one JSON object")]
    [InlineData("InactiveSweep__Enabled=true", "APP_SETTINGS is not valid JSON; it must be one JSON object")]
    [InlineData("""{"Risk__Enabled":"false"} {"InactiveSweep__Enabled":"true"}""", "APP_SETTINGS is 2 JSON values; it must be one JSON object")]
    [InlineData(" ", "APP_SETTINGS is empty; set it to '{}' for no flow settings")]
    [InlineData("""{"InactiveSweep__Enabled":true,"InactiveSweep__InactiveDays":90}""", "APP_SETTINGS: InactiveSweep__Enabled must have a string value (a JSON boolean was given)")]
    [InlineData("""{"Risk:Enabled":"false"}""", "APP_SETTINGS: Risk:Enabled has ':': write it with __")]
    [InlineData("""{"Risk__Enabled":"false","risk__enabled":"true"}""", "APP_SETTINGS: Risk__Enabled and risk__enabled name the same setting")]
    public async Task Preprovision_refuses_APP_SETTINGS_that_is_not_a_JSON_object_of_setting_names_to_strings_saying_what_is_wrong(string settings, string message)
    {
        var (exitCode, _, error) = await _az.RunAsync("infra/hooks/preprovision.sh", new Dictionary<string, string> { ["APP_SETTINGS"] = settings });

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, error);
        Assert.Equal("", _az.Calls);
    }

    [Theory]
    [InlineData("ServiceNow__InstanceUrl", "is set by the deployment (the ServiceNow instance); use azd env set SERVICENOW_INSTANCE_URL")]
    [InlineData("AzureWebJobs.FullSync.Disabled", "is set by the deployment (the disabled-functions list); use azd env set DISABLED_FUNCTIONS")]
    [InlineData("Risk__Incident__AssignmentGroup", "is set by the deployment (the risk incidents' group); use azd env set RISK_ASSIGNMENT_GROUP")]
    [InlineData("AzureWebJobsStorage", "is set by the deployment (the Functions host: its storage through the identity)")]
    [InlineData("ServiceBusConnection__fullyQualifiedNamespace", "is set by the deployment (the Service Bus triggers through the identity)")]
    [InlineData("APPLICATIONINSIGHTS_CONNECTION_STRING", "is set by the deployment (telemetry with the identity's token)")]
    public async Task Preprovision_refuses_a_setting_the_deployment_owns_and_says_what_sets_it(string name, string message)
    {
        var (exitCode, _, error) = await _az.RunAsync("infra/hooks/preprovision.sh", new Dictionary<string, string>
        {
            ["APP_SETTINGS"] = new JsonObject { [name] = "x", ["InactiveSweep__Enabled"] = "true" }.ToJsonString(),
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains($"APP_SETTINGS: {name} {message}", error);
        Assert.DoesNotContain("InactiveSweep__Enabled", error);
    }

    [Fact]
    public void The_PowerShell_preprovision_hook_reads_the_same_list_and_gives_the_same_reasons_as_the_POSIX_one_and_the_template()
    {
        // The suite runs the POSIX hook; Windows runs the PowerShell one, and a deployment that skips hooks the template's check.
        var posix = Repository.ReadText("infra", "hooks", "preprovision.sh");
        var powershell = Repository.ReadText("infra", "hooks", "preprovision.ps1");
        var template = Repository.ReadText("infra", "app", "app-settings.bicep");
        string[] shared =
        [
            "app-settings-policy.json",
            "write it with __ (App Service on Linux allows letters, digits, _ and . in names)",
            "names a secret: secrets reach the app only as Key Vault references the deployment writes",
            "is set by the deployment (",
            "; use azd env set ",
        ];
        string[] hooksOnly =
        [
            "is not set: the flows run with the deployment's settings",
            "is empty; set it to '{}' for no flow settings",
            "is not valid JSON; it must be one JSON object of setting name to string value",
            "name the same setting (names are case-insensitive): keep one",
            "an empty name is not a setting",
            "must have a string value (a JSON ",
            "nothing was deployed: fix APP_SETTINGS",
        ];

        Assert.All(shared, reason => Assert.All(new[] { posix, powershell, template }, script => Assert.Contains(reason, script)));
        Assert.All(hooksOnly, reason => Assert.All(new[] { posix, powershell }, script => Assert.Contains(reason, script)));
    }

    private static Dictionary<string, string> EventGridEnvironment() => new()
    {
        ["EVENT_DELIVERY"] = "eventgrid",
        ["AZURE_RESOURCE_GROUP"] = "rg-test",
        ["EVENTGRID_PARTNER_TOPIC"] = "entrasnow-graph-x",
        ["AZURE_FUNCTION_APP_ID"] = "/subscriptions/s/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-x",
        ["PARTNER_TOPIC_WAIT_ATTEMPTS"] = "1",
    };
}
