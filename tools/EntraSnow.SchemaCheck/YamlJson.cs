using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace EntraSnow.SchemaCheck;

/// <summary>
/// YAML to JSON with plain scalars typed as YAML 1.2 core does (true/false, numbers), as azd reads them.
/// Also compiled into EntraSnow.Infra.Tests, which asserts over azure.yaml's content.
/// </summary>
internal static class YamlJson
{
    public static JsonNode? Convert(string yaml)
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
}
