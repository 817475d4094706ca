using System.Text.Json.Nodes;
using EntraSnow.SchemaCheck;

namespace EntraSnow.Infra.Tests;

/// <summary>
/// azure.yaml, host.json and local.settings.sample.json are true to the repository. Their validity against the official
/// schemas (in ../shared/schemas) is a step of .ci/run: tools/EntraSnow.SchemaCheck.
/// </summary>
public sealed class ConfigurationFileTests
{
    [Fact]
    public void Azure_yaml_deploys_the_functions_project_from_infra_with_hooks_that_exist()
    {
        var yaml = YamlJson.Convert(Repository.ReadText("azure.yaml"))!;

        var service = yaml["services"]!["functions"]!;
        Assert.Equal("dotnet", (string?)service["language"]);
        Assert.Equal("function", (string?)service["host"]);
        var project = Repository.PathOf((string)service["project"]!);
        Assert.True(File.Exists(Path.Combine(project, "EntraSnow.Functions.csproj")), $"{project} holds no EntraSnow.Functions.csproj");

        var infra = yaml["infra"]!;
        Assert.Equal("bicep", (string?)infra["provider"]);
        Assert.True(File.Exists(Repository.PathOf((string)infra["path"]!, (string)infra["module"]! + ".bicep")));
        Assert.True(File.Exists(Repository.PathOf((string)infra["path"]!, (string)infra["module"]! + ".parameters.json")));

        // Every hook has a POSIX and a PowerShell script, and both exist.
        var hooks = yaml["hooks"]!.AsObject();
        Assert.Equal(["postdeploy", "postprovision", "preprovision"], hooks.Select(h => h.Key).Order());
        foreach (var (_, hook) in hooks)
        {
            Assert.Equal("sh", (string?)hook!["posix"]!["shell"]);
            Assert.Equal("pwsh", (string?)hook["windows"]!["shell"]);
            Assert.True(File.Exists(Repository.PathOf((string)hook["posix"]!["run"]!)), (string?)hook["posix"]!["run"]);
            Assert.True(File.Exists(Repository.PathOf((string)hook["windows"]!["run"]!)), (string?)hook["windows"]!["run"]);
        }
    }

    [Fact]
    public void Main_parameters_read_the_azd_environment()
    {
        var parameters = JsonNode.Parse(Repository.ReadText("infra", "main.parameters.json"))!["parameters"]!;

        Assert.Equal("${AZURE_ENV_NAME}", (string?)parameters["environmentName"]!["value"]);
        Assert.Equal("${AZURE_LOCATION}", (string?)parameters["location"]!["value"]);
        Assert.Equal("${AZURE_PRINCIPAL_ID}", (string?)parameters["principalId"]!["value"]);
    }

    [Fact]
    public void Main_parameters_name_only_parameters_main_bicep_declares()
    {
        var parameters = JsonNode.Parse(Repository.ReadText("infra", "main.parameters.json"))!["parameters"]!.AsObject().Select(p => p.Key);
        var bicep = Repository.ReadText("infra", "main.bicep");

        Assert.All(parameters, p => Assert.Contains($"param {p} ", bicep));
    }

    [Fact]
    public void Every_host_json_setting_has_its_reason_in_the_deployment_docs()
    {
        var docs = Repository.ReadText("docs", "deploy.md");
        var settings = Leaves(JsonNode.Parse(Repository.ReadText("host.json"))!, "").Where(path => path != "version").ToList();

        Assert.NotEmpty(settings);
        Assert.All(settings, path => Assert.Contains($"| `{path}` |", docs));
    }

    [Fact]
    public void Host_json_leaves_message_settlement_to_the_consumers_and_releases_idle_sessions()
    {
        var serviceBus = JsonNode.Parse(Repository.ReadText("host.json"))!["extensions"]!["serviceBus"]!;

        Assert.False((bool)serviceBus["autoCompleteMessages"]!);
        Assert.True(TimeSpan.Parse((string)serviceBus["sessionIdleTimeout"]!, System.Globalization.CultureInfo.InvariantCulture) < TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Host_json_lets_one_queue_fill_the_ServiceNow_budget_and_the_budget_caps_the_instance()
    {
        var serviceBus = JsonNode.Parse(Repository.ReadText("host.json"))!["extensions"]!["serviceBus"]!;
        var budget = new EntraSnow.Connectors.ServiceNow.ServiceNowOptions().MaxConcurrency;

        // Fewer sessions than the budget would leave ServiceNow idle while a full sync waits on itself (issue #15).
        Assert.Equal(budget, (int)serviceBus["maxConcurrentSessions"]!);
        // The app settings keep the default budget, so the two figures stay the ones README documents.
        Assert.DoesNotContain("ServiceNow__MaxConcurrency", Repository.ReadText("infra", "app", "functions.bicep"));
    }

    [Fact]
    public void The_local_settings_sample_holds_placeholders_never_secrets()
    {
        var values = JsonNode.Parse(Repository.ReadText("local.settings.sample.json"))!["Values"]!.AsObject();

        Assert.Equal("dotnet-isolated", (string?)values["FUNCTIONS_WORKER_RUNTIME"]);
        foreach (var name in new[] { "Graph__ClientState", "ServiceNow__ClientSecret", "ServiceNowWebhook__SigningSecret" })
        {
            Assert.StartsWith("<", (string?)values[name]);
        }
    }

    private static IEnumerable<string> Leaves(JsonNode node, string path) => node switch
    {
        JsonObject obj => obj.SelectMany(p => Leaves(p.Value!, path.Length == 0 ? p.Key : $"{path}.{p.Key}")),
        _ => [path],
    };
}
