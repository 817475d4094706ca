using System.Text.Json;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions.Serialization;

namespace EntraSnow.Connectors.Graph;

/// <summary>From the SDK's models to ours, including the delta annotations (<c>@removed</c>, <c>members@delta</c>, <c>manager@delta</c>) that arrive as additional data.</summary>
internal static class GraphModelMapping
{
    /// <summary>The attributes EntraSnow maps; one $select for reads by id and for delta.</summary>
    public static readonly string[] UserSelect =
    [
        "id", "userPrincipalName", "displayName", "mail", "givenName", "surname", "jobTitle", "department",
        "officeLocation", "businessPhones", "mobilePhone", "employeeId", "userType", "accountEnabled",
    ];

    public static readonly string[] GroupSelect = ["id", "displayName", "description", "mail", "securityEnabled"];

    public static DirectoryUser ToDirectoryUser(User user)
    {
        var managerId = user.Manager?.Id;
        if (managerId is null && user.AdditionalData.TryGetValue("manager@delta", out var managerDelta))
        {
            managerId = Entries(managerDelta).Where(e => e.Removed is null).Select(e => e.Id).FirstOrDefault();
        }

        return new DirectoryUser
        {
            Id = user.Id ?? throw new GraphMalformedItemException("Graph returned a user without an id."),
            UserPrincipalName = user.UserPrincipalName,
            DisplayName = user.DisplayName,
            Mail = user.Mail,
            GivenName = user.GivenName,
            Surname = user.Surname,
            JobTitle = user.JobTitle,
            Department = user.Department,
            OfficeLocation = user.OfficeLocation,
            BusinessPhones = user.BusinessPhones?.Where(p => p is not null).Select(p => p!).ToArray() ?? [],
            MobilePhone = user.MobilePhone,
            EmployeeId = user.EmployeeId,
            UserType = user.UserType,
            AccountEnabled = user.AccountEnabled,
            ManagerId = managerId,
            LastSuccessfulSignIn = user.SignInActivity?.LastSuccessfulSignInDateTime,
            CreatedDateTime = user.CreatedDateTime,
            AssignedSkuIds = user.AssignedLicenses?.Select(l => l.SkuId?.ToString()).OfType<string>().ToArray() ?? [],
            EmployeeType = user.EmployeeType,
            CompanyName = user.CompanyName,
            OtherAttributes = TextAttributes(user.AdditionalData),
            Removed = RemovedOf(user.AdditionalData),
        };
    }

    public static DirectoryGroup ToDirectoryGroup(Group group)
    {
        var entries = group.AdditionalData.TryGetValue("members@delta", out var value) ? Entries(value).ToList() : [];
        var members = entries.Where(e => e.IsUser).ToList();
        var nested = entries.Where(e => e.IsGroup).ToList();
        return new DirectoryGroup
        {
            Id = group.Id ?? throw new GraphMalformedItemException("Graph returned a group without an id."),
            DisplayName = group.DisplayName,
            Description = group.Description,
            Mail = group.Mail,
            SecurityEnabled = group.SecurityEnabled,
            IsAssignableToRole = group.IsAssignableToRole,
            Removed = RemovedOf(group.AdditionalData),
            MembersAdded = members.Where(m => m.Removed is null).Select(m => m.Id).ToArray(),
            MembersRemoved = members.Where(m => m.Removed is not null).Select(m => m.Id).ToArray(),
            NestedGroupsAdded = nested.Where(m => m.Removed is null).Select(m => m.Id).ToArray(),
            NestedGroupsRemoved = nested.Where(m => m.Removed is not null).Select(m => m.Id).ToArray(),
        };
    }

    public static RiskDetection ToRiskDetection(Microsoft.Graph.Models.RiskDetection detection) => new()
    {
        Id = detection.Id ?? throw new GraphUnavailableException("Graph returned a risk detection without an id."),
        UserId = detection.UserId,
        UserPrincipalName = detection.UserPrincipalName,
        UserDisplayName = detection.UserDisplayName,
        RiskEventType = detection.RiskEventType,
        RiskLevel = WireName(detection.RiskLevel),
        RiskState = WireName(detection.RiskState),
        RiskDetail = WireName(detection.RiskDetail),
        DetectionTimingType = WireName(detection.DetectionTimingType),
        Activity = WireName(detection.Activity),
        Source = detection.Source,
        IpAddress = detection.IpAddress,
        Location = detection.Location is { } l
            ? string.Join(", ", new[] { l.City, l.State, l.CountryOrRegion }.Where(p => !string.IsNullOrEmpty(p)))
            : null,
        ActivityDateTime = detection.ActivityDateTime,
        DetectedDateTime = detection.DetectedDateTime ?? detection.ActivityDateTime ?? DateTimeOffset.MinValue,
        LastUpdatedDateTime = detection.LastUpdatedDateTime,
    };

    public static GraphSubscription ToGraphSubscription(Subscription subscription) => new()
    {
        Id = subscription.Id ?? throw new GraphUnavailableException("Graph returned a subscription without an id."),
        Resource = subscription.Resource ?? "",
        ChangeType = subscription.ChangeType ?? "",
        NotificationUrl = subscription.NotificationUrl ?? "",
        LifecycleNotificationUrl = subscription.LifecycleNotificationUrl,
        ExpirationDateTime = subscription.ExpirationDateTime ?? DateTimeOffset.MinValue,
    };

    /// <summary>The SDK's enums back to Graph's wire values (<c>High</c> → <c>high</c>, <c>AtRisk</c> → <c>atRisk</c>), which is what ServiceNow and logs should see.</summary>
    private static string? WireName<TEnum>(TEnum? value)
        where TEnum : struct, Enum
    {
        var name = value?.ToString();
        return string.IsNullOrEmpty(name) ? null : char.ToLowerInvariant(name[0]) + name[1..];
    }

    /// <summary>Selected attributes the SDK has no property for (directory extensions), as text; annotations are left out.</summary>
    private static Dictionary<string, string?> TextAttributes(IDictionary<string, object> data)
    {
        var text = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in data)
        {
            if (!name.Contains('@', StringComparison.Ordinal))
            {
                text[name] = value switch
                {
                    UntypedString s => s.GetValue(),
                    UntypedBoolean b => b.GetValue() ? "true" : "false",
                    JsonElement { ValueKind: JsonValueKind.String } json => json.GetString(),
                    string s => s,
                    _ => null,
                };
            }
        }

        return text;
    }

    private static RemovedReason? RemovedOf(IDictionary<string, object> data)
    {
        if (!data.TryGetValue("@removed", out var removed))
        {
            return null;
        }

        var reason = Property(removed, "reason");
        return string.Equals(reason, "deleted", StringComparison.OrdinalIgnoreCase) ? RemovedReason.Deleted : RemovedReason.Changed;
    }

    private sealed record Entry(string Id, string? Type, RemovedReason? Removed)
    {
        public bool IsUser => Type is null || Type.EndsWith(".user", StringComparison.OrdinalIgnoreCase);

        public bool IsGroup => Type is not null && Type.EndsWith(".group", StringComparison.OrdinalIgnoreCase);
    }

    private static IEnumerable<Entry> Entries(object? value)
    {
        IEnumerable<object?> items = value switch
        {
            UntypedArray array => array.GetValue(),
            JsonElement { ValueKind: JsonValueKind.Array } json => json.EnumerateArray().Select(e => (object?)e),
            System.Collections.IEnumerable list and not string => list.Cast<object?>(),
            _ => [],
        };
        foreach (var item in items)
        {
            var id = Property(item, "id");
            if (id is null)
            {
                continue;
            }

            RemovedReason? removed = Child(item, "@removed") is { } r
                ? string.Equals(Property(r, "reason"), "deleted", StringComparison.OrdinalIgnoreCase) ? RemovedReason.Deleted : RemovedReason.Changed
                : null;
            yield return new Entry(id, Property(item, "@odata.type"), removed);
        }
    }

    private static object? Child(object? node, string name) => node switch
    {
        UntypedObject obj => obj.GetValue().TryGetValue(name, out var v) ? v : null,
        JsonElement { ValueKind: JsonValueKind.Object } json => json.TryGetProperty(name, out var v) ? v : null,
        IDictionary<string, object> dict => dict.TryGetValue(name, out var v) ? v : null,
        _ => null,
    };

    private static string? Property(object? node, string name) => Child(node, name) switch
    {
        UntypedString s => s.GetValue(),
        JsonElement { ValueKind: JsonValueKind.String } json => json.GetString(),
        string s => s,
        _ => null,
    };
}
