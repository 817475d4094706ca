using System.Text;
using System.Text.Json;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>sysparm_display_value: false (values), true (display values), all (both).</summary>
internal enum DisplayMode
{
    Values,
    Display,
    All,
}

/// <summary>Writes records and errors in the shapes of servicenow-samples/ and reads request bodies.</summary>
internal static class ServiceNowRecordJson
{
    public const string ContentType = "application/json;charset=UTF-8";

    public static string Result(Action<Utf8JsonWriter> writeResult)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("result");
            writeResult(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Error(string message, string? detail)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            if (detail is null)
            {
                writer.WriteNull("detail");
            }
            else
            {
                writer.WriteString("detail", detail);
            }

            writer.WriteEndObject();
            writer.WriteString("status", "failure");
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// One record. References are <c>{link, value}</c> (or the bare sys_id with exclude_reference_link), an unset
    /// reference is <c>""</c>; with display values, <c>{display_value, link[, value]}</c>, as ServiceNow answers.
    /// </summary>
    public static void WriteRecord(
        Utf8JsonWriter writer,
        ServiceNowEmulatorStore store,
        string table,
        Dictionary<string, string> record,
        IReadOnlyList<string>? fields,
        DisplayMode mode,
        bool excludeReferenceLink,
        string apiRoot)
    {
        var schema = ServiceNowTableSchemas.For(table);
        writer.WriteStartObject();
        foreach (var name in fields ?? (IEnumerable<string>)record.Keys)
        {
            string? value;
            if (name.Contains('.', StringComparison.Ordinal))
            {
                value = store.FieldValue(table, record, name);
            }
            else if (!record.TryGetValue(name, out value))
            {
                continue; // A field the record does not have is left out, as ServiceNow leaves out unknown fields.
            }

            writer.WritePropertyName(name);
            if (!schema.References.TryGetValue(name, out var target))
            {
                WritePlain(writer, value, mode);
                continue;
            }

            if (value.Length == 0)
            {
                if (mode == DisplayMode.All)
                {
                    writer.WriteStartObject();
                    writer.WriteString("display_value", string.Empty);
                    writer.WriteString("value", string.Empty);
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteStringValue(string.Empty);
                }

                continue;
            }

            var link = $"{apiRoot}/api/now/table/{target}/{value}";
            switch (mode)
            {
                case DisplayMode.Values when excludeReferenceLink:
                    writer.WriteStringValue(value);
                    break;
                case DisplayMode.Values:
                    writer.WriteStartObject();
                    writer.WriteString("link", link);
                    writer.WriteString("value", value);
                    writer.WriteEndObject();
                    break;
                case DisplayMode.Display when excludeReferenceLink:
                    writer.WriteStringValue(store.DisplayOf(target, value));
                    break;
                case DisplayMode.Display:
                    writer.WriteStartObject();
                    writer.WriteString("display_value", store.DisplayOf(target, value));
                    writer.WriteString("link", link);
                    writer.WriteEndObject();
                    break;
                default:
                    writer.WriteStartObject();
                    writer.WriteString("display_value", store.DisplayOf(target, value));
                    if (!excludeReferenceLink)
                    {
                        writer.WriteString("link", link);
                    }

                    writer.WriteString("value", value);
                    writer.WriteEndObject();
                    break;
            }
        }

        writer.WriteEndObject();
    }

    private static void WritePlain(Utf8JsonWriter writer, string value, DisplayMode mode)
    {
        if (mode != DisplayMode.All)
        {
            writer.WriteStringValue(value);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("display_value", value);
        writer.WriteString("value", value);
        writer.WriteEndObject();
    }

    /// <summary>A request body's fields as strings; null when the body is not a JSON object.</summary>
    public static Dictionary<string, string>? ReadFields(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in body.EnumerateObject())
        {
            var value = property.Value;
            fields[property.Name] = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString() ?? string.Empty,
                JsonValueKind.Null => string.Empty,
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Object when value.TryGetProperty("value", out var inner) => inner.ValueKind == JsonValueKind.String ? inner.GetString() ?? string.Empty : inner.GetRawText(),
                _ => value.GetRawText(),
            };
        }

        return fields;
    }
}
