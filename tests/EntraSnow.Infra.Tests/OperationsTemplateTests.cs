using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EntraSnow.Flows.Intake;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Subscriptions;
using EntraSnow.Functions.Telemetry;

namespace EntraSnow.Infra.Tests;

/// <summary>
/// The operators' workbook and alert rules (infra/app/workbook.bicep, alerts.bicep) as compiled into main.bicep's ARM
/// template: they name only resources main.bicep deploys, and their queries name only the metrics, dimensions and values
/// the Functions app emits, taken from the code's constants, so renaming one in the code fails here.
/// </summary>
public sealed partial class OperationsTemplateTests(CompiledTemplate template) : IClassFixture<CompiledTemplate>
{
    private static readonly string[] OperationsModules = ["workbook", "alerts"];

    /// <summary>Every metric the app exports that operators look at, from the code.</summary>
    private static readonly string[] EmittedMetrics =
    [
        IntakeMetrics.QueuedMetric, IntakeMetrics.ClientStateRejectedMetric, IntakeMetrics.DroppedMetric,
        MessagingTelemetry.ProcessedMetric, MessagingTelemetry.ChangeLatencyMetric, MessagingTelemetry.ConnectorPausedMetric,
        ProvisioningTelemetry.DecisionsMetric, SubscriptionTelemetry.ExpirationMetric,
    ];

    /// <summary>Each dimension the code tags those metrics with, and the values it can take where a query filters on them.</summary>
    private static readonly Dictionary<string, string[]?> EmittedDimensions = new(StringComparer.Ordinal)
    {
        [MessagingTelemetry.QueueTag] = [.. QueueNames.All],
        [MessagingTelemetry.OutcomeTag] = [MessagingTelemetry.CompletedOutcome, MessagingTelemetry.RescheduledOutcome, MessagingTelemetry.DeadLetteredOutcome],
        [MessagingTelemetry.KindTag] = [MessageKinds.UserUpdated, MessageKinds.UserDeleted, MessageKinds.GroupUpdated, MessageKinds.GroupDeleted, MessageKinds.UserSync, MessageKinds.GroupSync],
        [MessagingTelemetry.ConnectorTag] = null,
        [ProvisioningTelemetry.ActionTag] = [.. Enum.GetValues<ProvisioningAction>().Select(ProvisioningLogEntry.ActionName)],
        [ProvisioningTelemetry.ObjectKindTag] = [ProvisioningObjectKinds.User, ProvisioningObjectKinds.Group],
        [SubscriptionTelemetry.ResourceTag] = null,
    };

    [Fact]
    public void Main_bicep_deploys_the_workbook_the_action_group_and_the_four_alert_rules()
    {
        var workbook = template.OnlyResource("Microsoft.Insights/workbooks");
        Assert.Equal("EntraSnow operations", (string?)workbook["properties"]!["displayName"]);
        Assert.Equal("[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]", (string?)workbook["properties"]!["sourceId"]);

        template.OnlyResource("Microsoft.Insights/actionGroups");
        Assert.Single(template.ResourcesOfType("Microsoft.Insights/metricAlerts"));
        Assert.Equal(3, LogAlerts().Count);
        Assert.Equal("[length(variables('logAlerts'))]", (string?)template.OnlyResource("Microsoft.Insights/scheduledQueryRules")["copy"]!["count"]);
    }

    [Fact]
    public void The_workbook_and_alerts_name_only_resources_that_main_bicep_deploys()
    {
        // Type -> the module of main.bicep that creates a resource of that type (not as `existing`).
        var deployedBy = template.Root["resources"]!.AsObject()
            .Where(m => m.Value!["properties"]?["template"] is JsonObject)
            .SelectMany(m => ModuleResources(m.Key).Where(r => r["existing"] is null).Select(r => (Type: (string)r["type"]!, Module: m.Key)))
            .GroupBy(x => x.Type, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Module).ToList(), StringComparer.OrdinalIgnoreCase);

        foreach (var module in OperationsModules)
        {
            // Relaxed escaping keeps the apostrophes of resourceId('...') as they are in the template.
            var json = template.Module(module).ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            var referenced = ResourceIdReference().Matches(json).Select(m => (Type: m.Groups["type"].Value, Parameter: m.Groups["parameter"].Value)).Distinct().ToList();
            Assert.NotEmpty(referenced);
            foreach (var (type, parameter) in referenced)
            {
                Assert.True(deployedBy.TryGetValue(type, out var modules), $"{module} references {type}, which main.bicep does not deploy");
                if (modules!.Contains(module))
                {
                    continue; // its own resource (the action group)
                }

                // The name comes from the output of the module that deploys that resource, so it is that very resource.
                var passed = (string?)template.ModuleParameters(module)[parameter]!["value"];
                Assert.Contains(modules, owner => passed!.StartsWith($"[reference('{owner}').outputs.", StringComparison.Ordinal));
            }

            Assert.All(ModuleResources(module).Where(r => r["existing"] is not null), existing =>
                Assert.True(deployedBy.ContainsKey((string)existing["type"]!), $"{module} refers to an existing {(string?)existing["type"]} that main.bicep does not deploy"));
        }
    }

    [Fact]
    public void Every_workbook_and_alert_query_names_only_metrics_and_dimensions_the_app_emits()
    {
        var queries = WorkbookQueries().Values.Concat(LogAlerts().Select(a => (string)a["query"]!)).ToList();

        var metricNames = queries.SelectMany(q => MetricName().Matches(q).SelectMany(m => QuotedValues(m.Groups["names"].Value))).ToHashSet(StringComparer.Ordinal);
        Assert.Subset(EmittedMetrics.ToHashSet(StringComparer.Ordinal), metricNames);
        // ... and the workbook shows every one of them.
        var workbookMetrics = WorkbookQueries().Values.SelectMany(q => MetricName().Matches(q).SelectMany(m => QuotedValues(m.Groups["names"].Value))).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(EmittedMetrics.Order(), workbookMetrics.Order());

        var dimensions = queries.SelectMany(q => Dimension().Matches(q).Select(m => m.Groups["name"].Value)).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(dimensions);
        Assert.All(dimensions, d => Assert.True(EmittedDimensions.ContainsKey(d), $"the queries read customDimensions[\"{d}\"], which no EntraSnow metric carries"));

        var filters = queries.SelectMany(q => DimensionFilter().Matches(q)).ToList();
        Assert.NotEmpty(filters);
        foreach (var filter in filters)
        {
            var dimension = filter.Groups["dimension"].Success ? filter.Groups["dimension"].Value : filter.Groups["column"].Value;
            Assert.True(EmittedDimensions.TryGetValue(dimension, out var values) && values is not null, $"the queries filter on {dimension}, whose values the code does not fix");
            Assert.Subset(values!.ToHashSet(StringComparer.Ordinal), QuotedValues(filter.Groups["values"].Value).ToHashSet(StringComparer.Ordinal));
        }

        // The metrics come from meters the app's telemetry pipeline exports.
        Assert.Subset(FunctionsTelemetry.Meters.ToHashSet(), new HashSet<string> { IntakeMetrics.MeterName, MessagingTelemetry.Name, ProvisioningTelemetry.Name, SubscriptionTelemetry.Name });
    }

    [Fact]
    public void The_intake_queries_match_the_apps_HTTP_routes()
    {
        var routes = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "functions.metadata")))!.AsArray()
            .SelectMany(f => f!["bindings"]!.AsArray())
            .Select(b => (string?)b!["route"])
            .OfType<string>()
            .Select(r => $"/api/{r}")
            // The health probe is for operators and load balancers, not intake: its answers are no intake 5xx.
            .Where(r => r != "/api/health")
            .ToList();
        var queries = WorkbookQueries().Values.Concat(LogAlerts().Select(a => (string)a["query"]!)).Where(q => q.Contains("requests", StringComparison.Ordinal)).ToList();

        Assert.Equal(2, queries.Count);
        foreach (var query in queries)
        {
            var prefixes = UrlFilter().Matches(query).Select(m => m.Groups["prefix"].Value).ToList();
            Assert.Equal(new[] { "/api/graph/", "/api/servicenow/" }, prefixes);
            Assert.All(prefixes, p => Assert.Contains(routes, r => r.StartsWith(p, StringComparison.Ordinal)));
            // Every intake route is covered by one of them.
            Assert.All(routes, r => Assert.Contains(prefixes, p => r.StartsWith(p, StringComparison.Ordinal)));
            Assert.Contains("toint(resultCode) >= 500", query, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_workbook_shows_dead_letters_per_queue_from_the_Service_Bus_namespace()
    {
        var items = template.Module("workbook")["variables"]!["content"]!["items"]!.AsArray();
        var deadLetters = Assert.Single(items, i => (int)i!["type"]! == 10)!["content"]!;
        var metric = Assert.Single(deadLetters["metrics"]!.AsArray())!;

        Assert.Equal("microsoft.servicebus/namespaces--DeadletteredMessages", (string?)metric["metric"]);
        Assert.Equal("EntityName", (string?)metric["splitBy"]);
        Assert.Equal("[resourceId('Microsoft.ServiceBus/namespaces', parameters('serviceBusName'))]", (string?)deadLetters["resourceIds"]![0]);

        // Every query is shown by a workbook item.
        var shown = items.Select(i => i!["content"] is JsonObject content ? content["query"] : i["content"])
            .OfType<JsonValue>().Select(v => (string)v!).ToList();
        Assert.All(WorkbookQueries().Keys, key => Assert.Contains(shown, s => s.Contains($"variables('queries').{key}", StringComparison.Ordinal)));
    }

    [Fact]
    public void Alerts_fire_on_the_first_dead_letter_an_expiry_within_24_hours_any_intake_5xx_and_any_pause()
    {
        var deadLetters = template.OnlyResource("Microsoft.Insights/metricAlerts")["properties"]!;
        var criterion = Assert.Single(deadLetters["criteria"]!["allOf"]!.AsArray())!;
        Assert.Equal("[resourceId('Microsoft.ServiceBus/namespaces', parameters('serviceBusName'))]", (string?)deadLetters["scopes"]![0]);
        Assert.Equal("DeadletteredMessages", (string?)criterion["metricName"]);
        Assert.Equal("GreaterThan", (string?)criterion["operator"]);
        Assert.Equal(0, (int)criterion["threshold"]!);
        var split = Assert.Single(criterion["dimensions"]!.AsArray())!;
        Assert.Equal("EntityName", (string?)split["name"]);
        Assert.Equal("*", (string?)split["values"]![0]);

        var rule = template.OnlyResource("Microsoft.Insights/scheduledQueryRules")["properties"]!;
        var logCriterion = Assert.Single(rule["criteria"]!["allOf"]!.AsArray())!;
        Assert.Equal("Count", (string?)logCriterion["timeAggregation"]);
        Assert.Equal("GreaterThan", (string?)logCriterion["operator"]);
        Assert.Equal(0, (int)logCriterion["threshold"]!);
        Assert.Equal("[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]", (string?)rule["scopes"]![0]);

        var queries = LogAlerts().ToDictionary(a => (string)a["name"]!, a => (string)a["query"]!);
        Assert.Contains("expires < now() + 24h", queries["entrasnow-subscription-expiring"], StringComparison.Ordinal);
        Assert.Contains($"\"{SubscriptionTelemetry.ExpirationMetric}\"", queries["entrasnow-subscription-expiring"], StringComparison.Ordinal);
        Assert.Contains($"\"{MessagingTelemetry.ConnectorPausedMetric}\"", queries["entrasnow-connector-paused"], StringComparison.Ordinal);
        Assert.Contains("toint(resultCode) >= 500", queries["entrasnow-intake-5xx"], StringComparison.Ordinal);
        // The expiry query looks back a whole day, so upkeep (every 6 hours) has reported within its window.
        Assert.Equal("P1D", (string?)LogAlerts().Single(a => (string?)a["name"] == "entrasnow-subscription-expiring")["windowSize"]);
    }

    [Fact]
    public void Every_alert_emails_the_address_set_with_ALERT_EMAIL()
    {
        var parameters = JsonNode.Parse(Repository.ReadText("infra", "main.parameters.json"))!["parameters"]!;
        Assert.Equal("${ALERT_EMAIL}", (string?)parameters["alertEmail"]!["value"]);
        Assert.Null(template.Root["parameters"]!["alertEmail"]!["defaultValue"]);
        Assert.Equal("[parameters('alertEmail')]", (string?)template.ModuleParameters("alerts")["alertEmail"]!["value"]);

        var group = template.OnlyResource("Microsoft.Insights/actionGroups")["properties"]!;
        var receiver = Assert.Single(group["emailReceivers"]!.AsArray())!;
        Assert.Equal("[parameters('alertEmail')]", (string?)receiver["emailAddress"]);
        Assert.True((bool)group["enabled"]!);

        const string actionGroup = "[resourceId('Microsoft.Insights/actionGroups', parameters('actionGroupName'))]";
        Assert.Equal(actionGroup, (string?)template.OnlyResource("Microsoft.Insights/metricAlerts")["properties"]!["actions"]![0]!["actionGroupId"]);
        Assert.Equal(actionGroup, (string?)template.OnlyResource("Microsoft.Insights/scheduledQueryRules")["properties"]!["actions"]!["actionGroups"]![0]);

        Assert.Contains("ALERT_EMAIL", Repository.ReadText("docs", "deploy.md"), StringComparison.Ordinal);
        Assert.Contains("`ALERT_EMAIL`", Repository.ReadText("README.md"), StringComparison.Ordinal);
    }

    private IEnumerable<JsonObject> ModuleResources(string module) => template.Module(module)["resources"] switch
    {
        JsonArray list => list.OfType<JsonObject>(),
        JsonObject byName => byName.Select(p => p.Value).OfType<JsonObject>(),
        _ => [],
    };

    private Dictionary<string, string> WorkbookQueries() =>
        template.Module("workbook")["variables"]!["queries"]!.AsObject().ToDictionary(q => q.Key, q => (string)q.Value!);

    private List<JsonObject> LogAlerts() => template.Module("alerts")["variables"]!["logAlerts"]!.AsArray().Select(a => a!.AsObject()).ToList();

    private static IEnumerable<string> QuotedValues(string list) => Quoted().Matches(list).Select(m => m.Groups["value"].Value);

    [GeneratedRegex(@"resourceId\('(?<type>[^']+)', parameters\('(?<parameter>\w+)'\)\)")]
    private static partial Regex ResourceIdReference();

    [GeneratedRegex(@"\bname (?:==|in) \(?(?<names>""[^""]+""(?:, ""[^""]+"")*)\)?")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"customDimensions\[""(?<name>[^""]+)""\]")]
    private static partial Regex Dimension();

    // `tostring(customDimensions["kind"]) in (...)`, or a column extended from a dimension: `where outcome in (...)`.
    [GeneratedRegex(@"(?:customDimensions\[""(?<dimension>[^""]+)""\]\)|where (?<column>(?!name\b)\w+)) in \((?<values>[^)]*)\)")]
    private static partial Regex DimensionFilter();

    [GeneratedRegex(@"url has ""(?<prefix>[^""]+)""")]
    private static partial Regex UrlFilter();

    [GeneratedRegex(@"""(?<value>[^""]*)""")]
    private static partial Regex Quoted();
}
