using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Provisioning;

/// <summary>
/// Adoption for users (<see cref="AdoptionRules"/>): the sys_user fields of <c>Provisioning:Adoption:MatchOn</c>, each
/// compared with the Entra value its mapping writes there (<c>user_name</c> = UPN, <c>email</c> = mail).
/// </summary>
internal sealed class UserAdoption
{
    private readonly string _objectIdField;
    private readonly List<(string Field, string Source)> _match;

    public UserAdoption(ProvisioningOptions options)
    {
        _objectIdField = options.ObjectIdField;
        var mappings = options.EffectiveMappings();
        // Only when users are joined on their object id: matching on another field (user_name) joins existing records anyway.
        _match = options.EffectiveMatchingField == options.ObjectIdField
            ? options.Adoption.MatchFields.Where(mappings.ContainsKey).Select(f => (f, mappings[f].Source!)).ToList()
            : [];
    }

    public bool Enabled => _match.Count > 0;

    /// <summary>What a decision reads of each candidate record.</summary>
    public IReadOnlyList<string> CandidateFields => ["sys_id", _objectIdField, "active", .. _match.Select(m => m.Field)];

    /// <summary>The user's value for each match field, in order, leaving out empty ones.</summary>
    public IReadOnlyList<(string Field, string Value)> MatchValues(DirectoryUser user) =>
        _match.Select(m => (m.Field, Value: (user.Attribute(m.Source) ?? string.Empty).Trim()))
            .Where(v => v.Value.Length > 0)
            .ToList();

    public AdoptionDecision Decide(string objectId, IReadOnlyList<(string Field, string Value)> values, IReadOnlyCollection<ServiceNowRecord> candidates) =>
        AdoptionRules.Decide(ProvisionUserHandler.UserTable, _objectIdField, objectId, values, candidates);
}
