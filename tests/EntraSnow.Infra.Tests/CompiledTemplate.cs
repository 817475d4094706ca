using System.Text.Json.Nodes;

namespace EntraSnow.Infra.Tests;

/// <summary>infra/main.bicep compiled once per test run with <c>bicep build --stdout</c>: the ARM template azd deploys.</summary>
public sealed class CompiledTemplate : IAsyncLifetime
{
    public string Json { get; private set; } = "";

    public JsonObject Root { get; private set; } = [];

    internal BicepCli.Result Build { get; private set; } = new(-1, "", "");

    public async Task InitializeAsync()
    {
        Build = await BicepCli.RunAsync("build", "main.bicep", "--stdout");
        if (Build.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build failed ({Build.ExitCode}):\n{Build.StandardError}");
        }

        Json = Build.StandardOutput;
        Root = JsonNode.Parse(Json)!.AsObject();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The nested template of a module, by its symbolic name in main.bicep.</summary>
    public JsonObject Module(string symbolicName) =>
        Resources(Root).Single(r => r.Name == symbolicName).Resource["properties"]!["template"]!.AsObject();

    /// <summary>The parameters main.bicep passes to a module.</summary>
    public JsonObject ModuleParameters(string symbolicName) =>
        Resources(Root).Single(r => r.Name == symbolicName).Resource["properties"]!["parameters"]!.AsObject();

    /// <summary>Every resource of the template and its modules, at any depth.</summary>
    public IEnumerable<JsonObject> AllResources() => Flatten(Root);

    public IEnumerable<JsonObject> ResourcesOfType(string type) =>
        AllResources().Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));

    public JsonObject OnlyResource(string type) => Assert.Single(ResourcesOfType(type));

    private static IEnumerable<JsonObject> Flatten(JsonObject template)
    {
        foreach (var (_, resource) in Resources(template))
        {
            if (resource["existing"]?.GetValue<bool>() == true)
            {
                continue; // a reference to a resource declared elsewhere
            }

            yield return resource;
            if (resource["properties"] is JsonObject properties && properties["template"] is JsonObject nested)
            {
                foreach (var inner in Flatten(nested))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>Resources of one template level; languageVersion 2.0 templates key them by symbolic name.</summary>
    private static IEnumerable<(string? Name, JsonObject Resource)> Resources(JsonObject template) =>
        template["resources"] switch
        {
            JsonObject byName => byName.Where(p => p.Value is JsonObject).Select(p => ((string?)p.Key, p.Value!.AsObject())),
            JsonArray list => list.OfType<JsonObject>().Select(r => ((string?)null, r)),
            _ => [],
        };
}
