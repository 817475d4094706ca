using NJsonSchema;
using NJsonSchema.Generation;
using NJsonSchema.References;

namespace EntraSnow.SchemaCheck;

/// <summary>Validates JSON against one of the official schemas, offline.</summary>
internal static class SchemaValidation
{
    public static async Task<IReadOnlyList<string>> ErrorsAsync(string schemaPath, string json)
    {
        var schema = await JsonSchema.FromJsonAsync(
            await File.ReadAllTextAsync(schemaPath), schemaPath, s => new OfflineReferenceResolver(s));
        return schema.Validate(json).Select(e => e.ToString()).ToList();
    }

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
