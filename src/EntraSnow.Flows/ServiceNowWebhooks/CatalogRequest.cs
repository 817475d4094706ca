using System.Text.Json;
using EntraSnow.Flows.Intake;

namespace EntraSnow.Flows.ServiceNowWebhooks;

/// <summary>What a catalog request asks of EntraSnow.</summary>
public enum CatalogRequestKind
{
    PasswordReset,
    AccessRequest,
}

/// <summary>
/// The body of a catalog webhook: which ticket (table, sys_id, number), for whom and by whom (sys_user sys_ids), and
/// for access requests the sys_user_group and whether to add or remove. Only pointers: the consumer reads the ticket
/// back from ServiceNow and acts on what it finds there, never on this body alone.
/// </summary>
public sealed record CatalogRequest(
    CatalogRequestKind Kind,
    string Table,
    string SysId,
    string Number,
    string RequestedFor,
    string RequestedBy,
    string? Group = null,
    string? Action = null)
{
    public const string Add = "add";
    public const string Remove = "remove";

    /// <summary>The tables a catalog request may point at.</summary>
    public static IReadOnlySet<string> Tables { get; } = new HashSet<string>(StringComparer.Ordinal) { "sc_req_item", "sc_task" };

    /// <summary>Parses and checks a body; every problem becomes a <see cref="NotificationFormatException"/> (answered 400).</summary>
    public static CatalogRequest Parse(CatalogRequestKind kind, ReadOnlySpan<byte> utf8Json) => ReadObject(utf8Json, root =>
    {
        var table = Text(root, "table", required: true)!;
        if (!Tables.Contains(table))
        {
            throw new NotificationFormatException($"'table' must be one of {string.Join(", ", Tables)}.");
        }

        var request = new CatalogRequest(
            kind,
            table,
            ReadSysId(root, "sys_id"),
            ReadNumber(root),
            ReadSysId(root, "requested_for"),
            ReadSysId(root, "requested_by"));
        if (kind == CatalogRequestKind.AccessRequest)
        {
            var action = Text(root, "action", required: false)?.ToLowerInvariant() ?? Add;
            if (action is not (Add or Remove))
            {
                throw new NotificationFormatException("'action' must be 'add' or 'remove'.");
            }

            request = request with { Group = ReadSysId(root, "group"), Action = action };
        }

        return request;
    });

    /// <summary>Reads a webhook body that must be one JSON object; every problem becomes a <see cref="NotificationFormatException"/>.</summary>
    internal static T ReadObject<T>(ReadOnlySpan<byte> utf8Json, Func<JsonElement, T> read)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray());
        }
        catch (JsonException ex)
        {
            throw new NotificationFormatException($"The body is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new NotificationFormatException("The body must be a JSON object.");
            }

            return read(root);
        }
    }

    internal static string? Text(JsonElement root, string name, bool required)
    {
        if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
        {
            return text;
        }

        return required ? throw new NotificationFormatException($"The body is missing '{name}'.") : null;
    }

    /// <summary>ServiceNow sys_ids are 32 hex digits; anything else cannot point at a record.</summary>
    internal static string ReadSysId(JsonElement root, string name)
    {
        var value = Text(root, name, required: true)!;
        return value.Length == 32 && value.All(char.IsAsciiHexDigit)
            ? value.ToLowerInvariant()
            : throw new NotificationFormatException($"'{name}' must be a sys_id (32 hexadecimal digits).");
    }

    internal static string ReadNumber(JsonElement root)
    {
        var value = Text(root, "number", required: true)!;
        return value.Length <= 40 && value.All(char.IsAsciiLetterOrDigit)
            ? value
            : throw new NotificationFormatException("'number' must be a ticket number such as RITM0010001.");
    }
}
