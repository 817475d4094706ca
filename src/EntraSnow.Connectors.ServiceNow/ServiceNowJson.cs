using System.Text.Json;

namespace EntraSnow.Connectors.ServiceNow;

/// <summary>Reads Table API answers in every shape ServiceNow sends them.</summary>
internal static class ServiceNowJson
{
    /// <summary>The records of a <c>{"result": …}</c> answer (an object or an array of them).</summary>
    public static List<ServiceNowRecord> ReadResult(JsonElement root)
    {
        var records = new List<ServiceNowRecord>();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("result", out var result))
        {
            return records;
        }

        if (result.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in result.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object)
                {
                    records.Add(ReadRecord(item));
                }
            }
        }
        else if (result.ValueKind == JsonValueKind.Object)
        {
            records.Add(ReadRecord(result));
        }

        return records;
    }

    /// <summary>
    /// One record. A field is a plain string; or <c>{link, value}</c> (a reference); or <c>{display_value, value[, link]}</c>
    /// (sysparm_display_value=all); or <c>{display_value, link}</c> (display values of a reference, the sys_id taken from the
    /// link); <c>""</c> is an unset reference.
    /// </summary>
    public static ServiceNowRecord ReadRecord(JsonElement element)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        var displays = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var field = property.Value;
            if (field.ValueKind != JsonValueKind.Object)
            {
                values[property.Name] = Scalar(field);
                continue;
            }

            string? value = null;
            string? display = null;
            string? link = null;
            var hasValue = false;
            var hasDisplay = false;
            foreach (var part in field.EnumerateObject())
            {
                switch (part.Name)
                {
                    case "value":
                        value = Scalar(part.Value);
                        hasValue = true;
                        break;
                    case "display_value":
                        display = Scalar(part.Value);
                        hasDisplay = true;
                        break;
                    case "link":
                        link = Scalar(part.Value);
                        break;
                }
            }

            if (!hasValue)
            {
                value = link is { Length: > 0 } ? LastSegment(link) : display;
            }

            values[property.Name] = value;
            if (hasDisplay)
            {
                displays[property.Name] = display;
            }
        }

        return new ServiceNowRecord(values, displays);
    }

    /// <summary>ServiceNow's <c>{"error":{"message","detail"}}</c>, if the body is one.</summary>
    public static (string? Message, string? Detail) ReadError(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null);
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var message = error.TryGetProperty("message", out var m) ? Scalar(m) : null;
                var detail = error.TryGetProperty("detail", out var d) ? Scalar(d) : null;
                return (message, detail);
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): no ServiceNow error to report.
        }

        return (null, null);
    }

    private static string? Scalar(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => element.GetRawText(),
    };

    private static string LastSegment(string link)
    {
        var path = Uri.TryCreate(link, UriKind.Absolute, out var uri) ? uri.AbsolutePath : link;
        var slash = path.TrimEnd('/').LastIndexOf('/');
        return slash >= 0 ? path[(slash + 1)..].TrimEnd('/') : path;
    }
}
