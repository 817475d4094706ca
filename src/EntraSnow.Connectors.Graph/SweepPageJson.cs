using System.Text.Json;

namespace EntraSnow.Connectors.Graph;

/// <summary>
/// A page of <c>GET /users</c> read straight from Graph's JSON into <see cref="DirectoryUser"/>s, for the sweep's pass over
/// the whole directory. The SDK's models keep every property in a change-tracking backing store, which made parsing most
/// of a page's cost (profiled: more than the emulator's serving it); the request still goes through the SDK's adapter and
/// handlers. Reads what <see cref="GraphModelMapping.ToDirectoryUser"/> reads from a list, by the same rules.
/// </summary>
internal static class SweepPageJson
{
    public sealed record Page(IReadOnlyList<DirectoryUser> Users, string? NextLink);

    public static async Task<Page> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        var root = json.RootElement;
        var users = new List<DirectoryUser>();
        if (root.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
        {
            foreach (var user in value.EnumerateArray())
            {
                users.Add(ToDirectoryUser(user));
            }
        }

        return new Page(users, Text(root, "@odata.nextLink"));
    }

    private static DirectoryUser ToDirectoryUser(JsonElement user)
    {
        var others = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in user.EnumerateObject())
        {
            if (!KnownProperties.Contains(property.Name) && !property.Name.Contains('@', StringComparison.Ordinal))
            {
                others[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => null,
                };
            }
        }

        return new DirectoryUser
        {
            Id = Text(user, "id") ?? throw new GraphMalformedItemException("Graph returned a user without an id."),
            UserPrincipalName = Text(user, "userPrincipalName"),
            DisplayName = Text(user, "displayName"),
            Mail = Text(user, "mail"),
            GivenName = Text(user, "givenName"),
            Surname = Text(user, "surname"),
            JobTitle = Text(user, "jobTitle"),
            Department = Text(user, "department"),
            OfficeLocation = Text(user, "officeLocation"),
            BusinessPhones = user.TryGetProperty("businessPhones", out var phones) && phones.ValueKind == JsonValueKind.Array
                ? [.. phones.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.String).Select(p => p.GetString()!)]
                : [],
            MobilePhone = Text(user, "mobilePhone"),
            EmployeeId = Text(user, "employeeId"),
            UserType = Text(user, "userType"),
            AccountEnabled = user.TryGetProperty("accountEnabled", out var enabled) && enabled.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? enabled.GetBoolean()
                : null,
            LastSuccessfulSignIn = user.TryGetProperty("signInActivity", out var signIn) && signIn.ValueKind == JsonValueKind.Object
                ? Time(signIn, "lastSuccessfulSignInDateTime")
                : null,
            CreatedDateTime = Time(user, "createdDateTime"),
            AssignedSkuIds = user.TryGetProperty("assignedLicenses", out var licences) && licences.ValueKind == JsonValueKind.Array
                ? [.. licences.EnumerateArray().Select(l => Text(l, "skuId")).Select(s => Guid.TryParse(s, out var sku) ? sku.ToString() : null).OfType<string>()]
                : [],
            EmployeeType = Text(user, "employeeType"),
            CompanyName = Text(user, "companyName"),
            OtherAttributes = others,
        };
    }

    /// <summary>The properties the SDK's user model reads itself; the rest go to "other attributes", as with the SDK.</summary>
    private static readonly HashSet<string> KnownProperties = new(new Microsoft.Graph.Models.User().GetFieldDeserializers().Keys, StringComparer.OrdinalIgnoreCase);

    private static string? Text(JsonElement item, string name) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static DateTimeOffset? Time(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var time)
            ? time
            : null;
}
