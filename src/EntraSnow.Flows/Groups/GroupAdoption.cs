using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Provisioning;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Adoption for groups (<see cref="AdoptionRules"/>): a group no sys_user_group carries the object id of is matched on
/// <c>Provisioning:Adoption:GroupMatchOn</c> (default <c>name</c> = display name; <c>email</c> = mail).
/// </summary>
internal sealed class GroupAdoption(ProvisioningOptions options)
{
    private readonly IReadOnlyList<string> _fields = options.Adoption.GroupMatchFields;

    /// <summary>The sys_user_group fields a group can be adopted on.</summary>
    public static readonly IReadOnlyList<string> Fields = ["name", "email"];

    public bool Enabled => _fields.Count > 0;

    public IReadOnlyList<string> CandidateFields => ["sys_id", options.ObjectIdField, "active", .. _fields];

    public IReadOnlyList<(string Field, string Value)> MatchValues(DirectoryGroup group) =>
        _fields.Select(f => (Field: f, Value: ((f == "name" ? group.DisplayName : group.Mail) ?? string.Empty).Trim()))
            .Where(v => v.Value.Length > 0)
            .ToList();

    /// <summary>
    /// Entra group names are not unique: groups of one run that share a match value are marked, so a record they would
    /// each adopt goes to none of them.
    /// </summary>
    public void MarkShared(IEnumerable<GroupChange> changes)
    {
        if (!Enabled)
        {
            return;
        }

        var live = changes.Where(c => c.Group.Removed is null).ToList();
        foreach (var field in _fields)
        {
            foreach (var shared in live.Select(c => (Change: c, Value: MatchValues(c.Group).FirstOrDefault(v => v.Field == field).Value))
                         .Where(x => !string.IsNullOrEmpty(x.Value))
                         .GroupBy(x => x.Value, StringComparer.OrdinalIgnoreCase)
                         .Where(g => g.Count() > 1))
            {
                var why = SharedMatch(field, shared.Key, [.. shared.Select(x => x.Change.Group.Id)]);
                foreach (var (change, _) in shared)
                {
                    change.SharedMatch ??= why;
                }
            }
        }
    }

    /// <summary>Why groups that share a match value adopt no record: logged with the conflict.</summary>
    public static string SharedMatch(string field, string value, IReadOnlyCollection<string> groupIds) =>
        $"{groupIds.Count} Entra groups with {field} '{value}' ({string.Join(", ", groupIds)})";
}
