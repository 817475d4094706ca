using System.Globalization;
using System.Text.Json.Nodes;
using NJsonSchema;
using NJsonSchema.Generation;
using NJsonSchema.References;
using YamlDotNet.RepresentationModel;

namespace EntraSnow.Infra.Tests;

/// <summary>Validates the project's configuration files against the official schemas in shared/schemas, offline.</summary>
internal static class SchemaValidation
{
    public static async Task<IReadOnlyList<string>> ErrorsAsync(string schemaFile, string json)
    {
        var schemaPath = Path.Combine(Repository.Shared, "schemas", schemaFile);
        var schema = await JsonSchema.FromJsonAsync(
            await File.ReadAllTextAsync(schemaPath), schemaPath, s => new OfflineReferenceResolver(s));
        return schema.Validate(json).Select(e => e.ToString()).ToList();
    }

    /// <summary>YAML to JSON with plain scalars typed as YAML 1.2 core does (true/false, numbers), as azd reads them.</summary>
    public static JsonNode? YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } scalar => Plain(scalar.Value),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    private static JsonValue? Plain(string? value) => value switch
    {
        null or "" or "~" or "null" => null,
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        _ when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
        _ => JsonValue.Create(value),
    };

    /// <summary>
    /// azd's schema points at extension schemas on the web (AI agents and the like, which azure.yaml does not use);
    /// here they resolve to an empty schema so validation never touches the network.
    /// </summary>
    private sealed class OfflineReferenceResolver(JsonSchema root)
        : JsonReferenceResolver(new JsonSchemaAppender(root, new DefaultTypeNameGenerator()))
    {
        public override Task<IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken = default) =>
            Task.FromResult<IJsonReference>(new JsonSchema());
    }
}
