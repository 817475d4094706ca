using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EntraSnow.Flows.Messaging;

namespace EntraSnow.Infra.Tests;

/// <summary>
/// The Functions app's compiled triggers against what infra/ provisions and docs/deploy.md documents, and against the
/// functions.metadata the Worker SDK generated from them (what the host reads). Attributes are read by type name, so
/// this holds whether the Service Bus and Event Grid types come from the real extensions or the stand-ins.
/// </summary>
public sealed partial class FunctionsMetadataTests(CompiledTemplate template) : IClassFixture<CompiledTemplate>
{
    private sealed record Trigger(string Function, Attribute Attribute)
    {
        public string Kind => Attribute.GetType().Name;

        public T? Get<T>(string property) => (T?)Attribute.GetType().GetProperty(property)?.GetValue(Attribute);
    }

    private static readonly Lazy<List<Trigger>> Triggers = new(ReadTriggers);

    private static List<Trigger> ReadTriggers()
    {
        var app = Assembly.Load("EntraSnow.Functions");
        return app.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Function: m.GetCustomAttributes().FirstOrDefault(a => a.GetType().FullName == "Microsoft.Azure.Functions.Worker.FunctionAttribute")))
            .Where(x => x.Function is not null)
            .Select(x => new Trigger(
                (string)x.Function!.GetType().GetProperty("Name")!.GetValue(x.Function)!,
                x.Method.GetParameters().SelectMany(p => p.GetCustomAttributes()).Single(a => a.GetType().Name.EndsWith("TriggerAttribute", StringComparison.Ordinal))))
            .ToList();
    }

    private static IEnumerable<Trigger> OfKind(string kind) => Triggers.Value.Where(t => t.Kind == kind);

    [Fact]
    public void The_app_has_functions_to_check()
    {
        Assert.NotEmpty(OfKind("HttpTriggerAttribute"));
        Assert.NotEmpty(OfKind("ServiceBusTriggerAttribute"));
        Assert.Equal(Triggers.Value.Count, Triggers.Value.Select(t => t.Function).Distinct().Count());
    }

    [Fact]
    public void The_SDK_generated_metadata_lists_every_function_with_its_trigger_as_declared()
    {
        // The build output the host indexes; the test project receives a copy through its reference to the app.
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "functions.metadata")))!.AsArray();
        var generated = metadata.ToDictionary(f => (string)f!["name"]!, f => f!["bindings"]!.AsArray().Single(b => ((string)b!["type"]!).EndsWith("Trigger", StringComparison.Ordinal))!);

        Assert.Equal(Triggers.Value.Select(t => t.Function).Order(), generated.Keys.Order());
        foreach (var trigger in Triggers.Value)
        {
            var binding = generated[trigger.Function];
            Assert.Equal(JsonNamingPolicy.CamelCase.ConvertName(trigger.Kind[..^"Attribute".Length]), (string)binding["type"]!);
            foreach (var property in new[] { "QueueName", "Connection", "Route", "Schedule", "IsSessionsEnabled", "AutoCompleteMessages", "RunOnStartup" })
            {
                var declared = trigger.Attribute.GetType().GetProperty(property)?.GetValue(trigger.Attribute);
                var name = JsonNamingPolicy.CamelCase.ConvertName(property);
                if (declared is null or false)
                {
                    // Unset (or false where the attribute has no other default): the host's default applies either way.
                    Assert.True(binding[name] is null || binding[name]!.ToString() is "false" or "False", $"{trigger.Function}: {name}");
                }
                else
                {
                    Assert.Equal(Convert.ToString(declared, CultureInfo.InvariantCulture), binding[name]?.ToString(), StringComparer.OrdinalIgnoreCase);
                }
            }
        }
    }

    [Fact]
    public void Every_queue_a_function_listens_to_is_provisioned_session_enabled_and_documented()
    {
        var provisioned = template.Root["variables"]!["queueNames"]!.AsArray().Select(n => (string)n!).ToList();
        var docs = Repository.ReadText("docs", "deploy.md");

        foreach (var trigger in OfKind("ServiceBusTriggerAttribute"))
        {
            var queue = trigger.Get<string>("QueueName");
            Assert.True(queue is not null && provisioned.Contains(queue), $"{trigger.Function} listens to '{queue}', which infra/ does not provision");
            Assert.Contains(queue, QueueNames.All);
            Assert.Contains($"`{queue}`", docs);

            // The queues require sessions: a trigger without them could not receive at all.
            Assert.True(trigger.Get<bool>("IsSessionsEnabled"), $"{trigger.Function} must enable sessions");
            Assert.Null(trigger.Get<string>("TopicName"));
        }
    }

    [Fact]
    public void Every_Service_Bus_connection_a_trigger_names_is_an_identity_based_app_setting()
    {
        var settings = AppSettings();

        foreach (var connection in OfKind("ServiceBusTriggerAttribute").Select(t => t.Get<string>("Connection")).Distinct())
        {
            Assert.False(string.IsNullOrEmpty(connection));
            Assert.Contains($"'{connection}__fullyQualifiedNamespace'", settings);
            Assert.Contains($"'{connection}__credential', 'managedidentity'", settings);
        }
    }

    [Fact]
    public void Every_http_route_is_documented_and_Graph_is_pointed_at_the_real_ones()
    {
        var docs = Repository.ReadText("docs", "deploy.md");
        var settings = AppSettings();
        var routes = OfKind("HttpTriggerAttribute").Select(t => t.Get<string>("Route")).ToList();

        Assert.All(routes, route => Assert.Contains($"/api/{route}`", docs));

        // The webhook notification URLs the deployment gives the app must hit functions that exist.
        foreach (var path in WebhookPath().Matches(settings).Select(m => m.Groups["route"].Value))
        {
            Assert.Contains(path, routes);
        }
    }

    [Fact]
    public void Every_timer_schedule_is_a_cron_expression_or_an_app_setting_the_deployment_provides()
    {
        var settings = AppSettings();

        foreach (var trigger in OfKind("TimerTriggerAttribute"))
        {
            var schedule = trigger.Get<string>("Schedule")!;
            var setting = SettingReference().Match(schedule);
            if (setting.Success)
            {
                // An unresolved %Setting% stops the host from indexing every function: the deployment writes it, as one
                // of its own settings or as a default of the flows' that APP_SETTINGS may change.
                var name = setting.Groups["name"].Value.Replace(":", "__", StringComparison.Ordinal);
                var flowDefaults = template.Module("functions")["variables"]!["flowDefaults"]!.AsObject();
                Assert.True(settings.Contains($"'{name}'", StringComparison.Ordinal) || flowDefaults.ContainsKey(name), $"the deployment does not write {name}");
            }
            else
            {
                Assert.Equal(6, schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
            }
        }
    }

    [Theory]
    [InlineData("infra/hooks/postdeploy.sh", "function_name=")]
    [InlineData("infra/hooks/postdeploy.ps1", "$functionName = ")]
    public void The_postdeploy_hook_subscribes_the_function_that_has_the_Event_Grid_trigger(string hook, string assignment)
    {
        var eventGrid = Assert.Single(OfKind("EventGridTriggerAttribute"));
        var script = Repository.ReadText(hook);

        var line = Assert.Single(script.Split('\n'), l => l.TrimStart().StartsWith(assignment, StringComparison.Ordinal));
        Assert.Equal(eventGrid.Function, line.Trim()[assignment.Length..].Trim('\'', '"', ' '));
    }

    private string AppSettings() =>
        (string)Assert.Single(template.ResourcesOfType("Microsoft.Web/sites/config"))["properties"]!;

    [GeneratedRegex(@"/api/(?<route>[a-z0-9/-]+)'")]
    private static partial Regex WebhookPath();

    [GeneratedRegex(@"^%(?<name>[^%]+)%$")]
    private static partial Regex SettingReference();
}
