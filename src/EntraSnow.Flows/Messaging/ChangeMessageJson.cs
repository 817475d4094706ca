using System.Text.Json;
using System.Text.Json.Serialization;

namespace EntraSnow.Flows.Messaging;

/// <summary>The wire form of <see cref="ChangeMessage"/> in every queue (camelCase JSON).</summary>
public static class ChangeMessageJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize(ChangeMessage message) => JsonSerializer.Serialize(message, Options);

    public static byte[] SerializeToUtf8(ChangeMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, Options);

    /// <exception cref="FormatException">The body is not a change message.</exception>
    public static ChangeMessage Deserialize(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize<ChangeMessage>(utf8, Options)
                ?? throw new FormatException("The message body is JSON null, not a change message.");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The message body is not a change message: {ex.Message}", ex);
        }
    }

    public static ChangeMessage Deserialize(string json) => Deserialize(System.Text.Encoding.UTF8.GetBytes(json));
}
