namespace EntraSnow.Connectors.Graph;

/// <summary>A user as the flows see it: the attributes EntraSnow maps, read from Graph with a $select.</summary>
public sealed record DirectoryUser
{
    public required string Id { get; init; }
    public string? UserPrincipalName { get; init; }
    public string? DisplayName { get; init; }
    public string? Mail { get; init; }
    public string? GivenName { get; init; }
    public string? Surname { get; init; }
    public string? JobTitle { get; init; }
    public string? Department { get; init; }
    public string? OfficeLocation { get; init; }
    public IReadOnlyList<string> BusinessPhones { get; init; } = [];
    public string? MobilePhone { get; init; }
    public string? EmployeeId { get; init; }
    public string? UserType { get; init; }
    public bool? AccountEnabled { get; init; }

    /// <summary>The manager's object id, when the user has one (from <c>$expand=manager</c> or <c>manager@delta</c>).</summary>
    public string? ManagerId { get; init; }

    public DateTimeOffset? LastSuccessfulSignIn { get; init; }

    /// <summary>Read only by the sign-in queries (<c>createdDateTime</c>).</summary>
    public DateTimeOffset? CreatedDateTime { get; init; }

    /// <summary>SKU ids of the assigned licences; read only by the sign-in queries.</summary>
    public IReadOnlyList<string> AssignedSkuIds { get; init; } = [];

    public string? EmployeeType { get; init; }

    public string? CompanyName { get; init; }

    /// <summary>Other selected attributes Graph returned (e.g. <c>extension_…</c> or onPremisesExtensionAttributes), by name, as text.</summary>
    public IReadOnlyDictionary<string, string?> OtherAttributes { get; init; } = new Dictionary<string, string?>();

    /// <summary>Set on delta pages for users that were removed: soft-deleted (<see cref="RemovedReason.Changed"/>) or permanently deleted.</summary>
    public RemovedReason? Removed { get; init; }

    /// <summary>Any attribute by its Graph name (e.g. <c>department</c>, <c>businessPhones</c> gives the first phone), for configurable mappings.</summary>
    public string? Attribute(string graphName) => graphName.ToUpperInvariant() switch
    {
        "ID" => Id,
        "USERPRINCIPALNAME" => UserPrincipalName,
        "DISPLAYNAME" => DisplayName,
        "MAIL" => Mail,
        "GIVENNAME" => GivenName,
        "SURNAME" => Surname,
        "JOBTITLE" => JobTitle,
        "DEPARTMENT" => Department,
        "OFFICELOCATION" => OfficeLocation,
        "BUSINESSPHONES" => BusinessPhones.Count > 0 ? BusinessPhones[0] : null,
        "MOBILEPHONE" => MobilePhone,
        "EMPLOYEEID" => EmployeeId,
        "USERTYPE" => UserType,
        "ACCOUNTENABLED" => AccountEnabled switch { true => "true", false => "false", null => null },
        "MANAGER" => ManagerId,
        "EMPLOYEETYPE" => EmployeeType,
        "COMPANYNAME" => CompanyName,
        _ => OtherAttributes.FirstOrDefault(a => string.Equals(a.Key, graphName, StringComparison.OrdinalIgnoreCase)).Value,
    };
}

/// <summary>Why a delta page lists an object as <c>@removed</c>: "changed" is a soft delete (restorable for 30 days), "deleted" is permanent.</summary>
public enum RemovedReason
{
    Changed,
    Deleted,
}

public sealed record DirectoryGroup
{
    public required string Id { get; init; }
    public string? DisplayName { get; init; }
    public string? Description { get; init; }
    public string? Mail { get; init; }
    public bool? SecurityEnabled { get; init; }

    /// <summary>Whether directory roles can be assigned to the group (set at creation, never changed); null when not read.</summary>
    public bool? IsAssignableToRole { get; init; }

    public RemovedReason? Removed { get; init; }

    /// <summary>From <c>members@delta</c>: members added since the last delta (the whole membership on a full delta).</summary>
    public IReadOnlyList<string> MembersAdded { get; init; } = [];

    /// <summary>From <c>members@delta</c> entries carrying <c>@removed</c>.</summary>
    public IReadOnlyList<string> MembersRemoved { get; init; } = [];

    /// <summary>From <c>members@delta</c>: groups nested in this one since the last delta (all of them on a full delta).</summary>
    public IReadOnlyList<string> NestedGroupsAdded { get; init; } = [];

    /// <summary>From <c>members@delta</c>: nested groups taken out, entries carrying <c>@removed</c>.</summary>
    public IReadOnlyList<string> NestedGroupsRemoved { get; init; } = [];
}

/// <summary>A group's direct members read in full: users, and groups nested in it.</summary>
public sealed record GroupMembers(IReadOnlyList<string> UserIds, IReadOnlyList<string> GroupIds);

/// <summary>One page of a delta query. The last page carries <see cref="DeltaLink"/>; store it to resume.</summary>
public sealed record DeltaPage<T>(IReadOnlyList<T> Items, string? DeltaLink)
{
    /// <summary>True when the stored delta link had expired and Graph was read from scratch instead.</summary>
    public bool IsFullResync { get; init; }

    /// <summary>The link of the page after this one (null on the last page): saved as progress, a run cut off goes on from it.</summary>
    public string? NextLink { get; init; }
}

public sealed record RiskDetection
{
    public required string Id { get; init; }
    public string? UserId { get; init; }
    public string? UserPrincipalName { get; init; }
    public string? UserDisplayName { get; init; }
    public string? RiskEventType { get; init; }
    public string? RiskLevel { get; init; }
    public string? RiskState { get; init; }
    public string? RiskDetail { get; init; }
    public string? DetectionTimingType { get; init; }
    public string? Activity { get; init; }
    public string? Source { get; init; }
    public string? IpAddress { get; init; }
    public string? Location { get; init; }
    public DateTimeOffset? ActivityDateTime { get; init; }
    public DateTimeOffset DetectedDateTime { get; init; }
    public DateTimeOffset? LastUpdatedDateTime { get; init; }

    /// <summary>When the detection last changed: its version (a later state change is a later value).</summary>
    public DateTimeOffset UpdatedAt => LastUpdatedDateTime ?? DetectedDateTime;
}

/// <summary>One page of risk detections; <see cref="NextLink"/> is null on the last page.</summary>
public sealed record RiskDetectionPage(IReadOnlyList<RiskDetection> Items, string? NextLink);

/// <summary>A Temporary Access Pass as Graph returns it once. The pass itself is a secret: never log or queue it.</summary>
public sealed record TemporaryAccessPass(string Id, string Pass, DateTimeOffset? StartDateTime, int LifetimeInMinutes, bool IsUsableOnce);

public sealed record GraphSubscription
{
    public required string Id { get; init; }
    public required string Resource { get; init; }
    public required string ChangeType { get; init; }
    public required string NotificationUrl { get; init; }
    public string? LifecycleNotificationUrl { get; init; }
    public required DateTimeOffset ExpirationDateTime { get; init; }
}

/// <summary>What to subscribe to. NotificationUrl is an https URL, or the Event Grid form <c>EventGrid:?azuresubscriptionid=…</c>.</summary>
public sealed record SubscriptionRequest
{
    public required string Resource { get; init; }
    public string ChangeType { get; init; } = "updated,deleted";
    public required string NotificationUrl { get; init; }
    public string? LifecycleNotificationUrl { get; init; }
    public required string ClientState { get; init; }
    public required DateTimeOffset ExpirationDateTime { get; init; }
}
