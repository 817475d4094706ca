using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EntraSnow.Infra.Tests;

/// <summary>
/// docs/runbook.md names only what exists: settings documented in the README and declared by the options class of their
/// section, Key Vault secrets the deployment reads, azd environment values the deployment or its hooks read, functions
/// the app has (consuming the queues it says), alert rules the template deploys and local host commands the CLI has.
/// </summary>
public sealed partial class RunbookTests(CompiledTemplate template) : IClassFixture<CompiledTemplate>
{
    private static readonly string Runbook = Repository.ReadText("docs", "runbook.md");

    [Fact]
    public void The_README_and_the_deployment_guide_link_the_runbook()
    {
        Assert.Contains("(docs/runbook.md)", Repository.ReadText("README.md"), StringComparison.Ordinal);
        Assert.Contains("(runbook.md)", Repository.ReadText("docs", "deploy.md"), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_setting_the_runbook_names_is_documented_in_the_README()
    {
        var readme = Repository.ReadText("README.md");
        var settings = Setting().Matches(Runbook).Select(m => m.Groups["name"].Value).Distinct().ToList();

        Assert.Contains("Graph:PreviousClientState", settings);
        Assert.Contains("ServiceNowWebhook:PreviousSigningSecret", settings);
        Assert.All(settings, s => Assert.True(readme.Contains($"`{s}`", StringComparison.Ordinal) || readme.Contains($"`{s.Split(':')[0]}:{s.Split(':')[1]}*`", StringComparison.Ordinal),
            $"docs/runbook.md names {s}, which README's Configuration does not document"));
    }

    [Fact]
    public void Every_setting_the_runbook_names_is_an_option_the_code_binds()
    {
        // The options classes' own source: `const string Section = "Messaging"` beside `public TimeSpan PausedRetryDelay { get; set; }`.
        var optionsSources = Directory.EnumerateFiles(Repository.PathOf("src"), "*.cs", SearchOption.AllDirectories)
            .Select(File.ReadAllText)
            .Where(source => source.Contains(" Section = \"", StringComparison.Ordinal) || source.Contains(" SectionName = \"", StringComparison.Ordinal))
            .ToList();
        var named = Setting().Matches(Runbook).DistinctBy(m => m.Value).ToList();
        Assert.Contains(named, m => m.Groups["name"].Value == "Risk:Enabled");

        foreach (var match in named)
        {
            var name = match.Groups["name"].Value;
            var section = name[..name.LastIndexOf(':')];
            var property = name[(name.LastIndexOf(':') + 1)..];
            // `ServiceNow:CircuitBreaker*` names every property that starts so.
            var declaration = new Regex($@"\b{property}{(match.Value.EndsWith("*`", StringComparison.Ordinal) ? @"\w*" : "")} \{{ get;");
            Assert.True(optionsSources.Any(source => (source.Contains($" Section = \"{section}\";", StringComparison.Ordinal) || source.Contains($" SectionName = \"{section}\";", StringComparison.Ordinal))
                && declaration.IsMatch(source)), $"docs/runbook.md names {name}, which no options class bound to the {section} section declares");
        }
    }

    [Fact]
    public void Every_Key_Vault_secret_the_runbook_names_is_one_the_app_reads()
    {
        var referenced = template.Json;
        var secrets = KeyVaultSecret().Matches(Runbook).Select(m => m.Groups["name"].Value).Distinct().ToList();

        Assert.Equal(6, secrets.Count);
        Assert.All(secrets, s => Assert.Contains($"SecretUri={{0}}/{s})", referenced, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_azd_environment_value_the_runbook_sets_is_read_by_the_deployment()
    {
        var parameters = Repository.ReadText("infra", "main.parameters.json");
        // The postprovision hooks read the flow switches of infra/graph-permissions.json.
        var switches = JsonNode.Parse(Repository.ReadText("infra", "graph-permissions.json"))!["switches"]!.AsObject().Select(s => s.Key).ToHashSet();
        var values = AzdEnvSet().Matches(Runbook).Select(m => m.Groups["name"].Value).Distinct().ToList();

        Assert.Contains("DISABLED_FUNCTIONS", values);
        Assert.Contains("SERVICENOW_WEBHOOK_SECRET_ROTATION", values);
        Assert.Contains("APP_SETTINGS", values);
        Assert.All(values, v => Assert.True(parameters.Contains($"${{{v}", StringComparison.Ordinal) || switches.Contains(v),
            $"docs/runbook.md sets {v}, which neither infra/main.parameters.json nor the hooks read"));
    }

    [Fact]
    public void Every_function_the_runbook_turns_off_exists_and_consumes_the_queue_it_says()
    {
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "functions.metadata")))!.AsArray();
        var functions = metadata.ToDictionary(f => (string)f!["name"]!, f => f!["bindings"]!.AsArray()
            .Select(b => (string?)b!["queueName"]).OfType<string>().SingleOrDefault(), StringComparer.Ordinal);

        var rows = FlowTable().Matches(Runbook).ToList();
        Assert.True(rows.Count >= 8, "the runbook's flow table is missing");
        foreach (var row in rows)
        {
            var names = Backticked().Matches(row.Groups["functions"].Value).Select(m => m.Groups["value"].Value).ToList();
            Assert.NotEmpty(names);
            Assert.All(names, n => Assert.True(functions.ContainsKey(n), $"the runbook disables {n}, which the app does not have"));

            // The first function named consumes the queue the row says waits (or no queue at all).
            var waits = Backticked().Match(row.Groups["waits"].Value);
            Assert.Equal(waits.Success ? waits.Groups["value"].Value : null, functions[names[0]] ?? functions[names[^1]]);
        }

        var commandLists = DisabledList().Matches(Runbook).SelectMany(m => m.Groups["names"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.NotEmpty(commandLists);
        Assert.All(commandLists, n => Assert.True(functions.ContainsKey(n), $"the runbook disables {n}, which the app does not have"));

        // The deployment turns each listed name into the runtime's disable setting.
        Assert.Contains("AzureWebJobs.{0}.Disabled", template.Json, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_alert_rule_the_runbook_explains_is_deployed()
    {
        var deployed = template.Module("alerts")["variables"]!["logAlerts"]!.AsArray().Select(a => (string)a!["name"]!)
            .Append((string)template.OnlyResource("Microsoft.Insights/metricAlerts")["name"]!).ToList();
        var explained = AlertRule().Matches(Runbook).Select(m => m.Groups["name"].Value).Distinct().ToList();

        Assert.Equal(deployed.Order(), explained.Order());
    }

    [Fact]
    public void Every_local_host_command_the_runbook_names_exists()
    {
        var readme = Repository.ReadText("README.md");
        var commands = LocalHostCommand().Matches(Runbook).Select(m => m.Groups["command"].Value).Distinct().ToList();

        Assert.Contains("deadletters", commands);
        Assert.All(commands, c => Assert.Contains($"| `{c}", readme, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"`(?<name>(?:Graph|ServiceNow|ServiceNowWebhook|Messaging|Subscriptions|Provisioning|GroupChanges|PasswordReset|AccessRequests|InactiveSweep|Retention|LocalHost|ServiceBus|Risk):[A-Za-z:]+)(?:\*|=[^`]*)?`")]
    private static partial Regex Setting();

    [GeneratedRegex(@"`(?<name>(?:graph|servicenow)-[a-z-]+)`")]
    private static partial Regex KeyVaultSecret();

    [GeneratedRegex(@"azd env set (?<name>[A-Z_]+)")]
    private static partial Regex AzdEnvSet();

    // | flow | `DISABLED_FUNCTIONS` names | what waits | or by setting |
    [GeneratedRegex(@"^\|(?!\s*flow\s*\|)(?<flow>[^|`]+)\|(?<functions>\s*`[A-Z][^|]*)\|(?<waits>[^|]*)\|[^|]*\|$", RegexOptions.Multiline)]
    private static partial Regex FlowTable();

    [GeneratedRegex(@"`(?<value>[A-Za-z-]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"DISABLED_FUNCTIONS ""(?<names>[A-Za-z,]+)""")]
    private static partial Regex DisabledList();

    [GeneratedRegex(@"`(?<name>entrasnow-[a-z0-9-]+)`")]
    private static partial Regex AlertRule();

    [GeneratedRegex(@"(?:src/EntraSnow\.LocalHost -- |`-- )(?<command>[a-z]+)")]
    private static partial Regex LocalHostCommand();
}
