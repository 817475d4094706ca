using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Flows.AccessRequests;

/// <summary>
/// Settings under <c>AccessRequests</c>: the groups the catalog may grant. A group is allowed when its object id is
/// listed or its display name starts with the prefix; with neither set, every access request is refused.
/// </summary>
public sealed class AccessRequestOptions : IValidatableObject
{
    public const string Section = "AccessRequests";

    /// <summary>Entra group object ids members may be added to or removed from through the catalog.</summary>
    public List<string> AllowedGroupIds { get; set; } = [];

    /// <summary>Groups whose display name starts with this (case-insensitive), e.g. <c>SN-Access-</c>.</summary>
    public string? AllowedGroupNamePrefix { get; set; }

    /// <summary>Whether <paramref name="groupId"/> (named <paramref name="displayName"/> in Entra) is on the allow-list.</summary>
    public bool Allows(string groupId, string? displayName) =>
        AllowedGroupIds.Contains(groupId, StringComparer.OrdinalIgnoreCase)
        || (AllowedGroupNamePrefix is { Length: > 0 } prefix && displayName?.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) == true);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AllowedGroupIds.Any(id => !Guid.TryParse(id, out _)))
        {
            yield return new ValidationResult("AccessRequests:AllowedGroupIds must be Entra group object ids (GUIDs).", [nameof(AllowedGroupIds)]);
        }

        if (AllowedGroupNamePrefix is { Length: > 0 } prefix && prefix.Trim().Length == 0)
        {
            yield return new ValidationResult("AccessRequests:AllowedGroupNamePrefix is blank: name a prefix or leave it unset.", [nameof(AllowedGroupNamePrefix)]);
        }
    }
}
