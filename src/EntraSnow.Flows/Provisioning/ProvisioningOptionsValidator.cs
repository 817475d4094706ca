using EntraSnow.Connectors.Graph;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

/// <summary>Checks what data annotations cannot: every mapping names a known Graph attribute and a complete reference.</summary>
internal sealed class ProvisioningOptionsValidator : IValidateOptions<ProvisioningOptions>
{
    private static readonly DirectoryUser Probe = new()
    {
        Id = "probe", UserPrincipalName = "p", DisplayName = "p", Mail = "p", GivenName = "p", Surname = "p", JobTitle = "p",
        Department = "p", OfficeLocation = "p", BusinessPhones = ["p"], MobilePhone = "p", EmployeeId = "p", UserType = "p",
        AccountEnabled = true, ManagerId = "p",
    };

    public ValidateOptionsResult Validate(string? name, ProvisioningOptions options)
    {
        var failures = new List<string>();
        if (Probe.Attribute(options.MatchingAttribute) is null)
        {
            failures.Add($"Provisioning:MatchingAttribute '{options.MatchingAttribute}' is not a Graph user attribute EntraSnow reads.");
        }

        foreach (var (field, mapping) in options.EffectiveMappings())
        {
            if (!IsFieldName(field))
            {
                failures.Add($"Provisioning:Mappings:{field} is not a ServiceNow field name.");
            }

            if (Probe.Attribute(mapping.Source!) is null)
            {
                failures.Add($"Provisioning:Mappings:{field}:Source '{mapping.Source}' is not a Graph user attribute EntraSnow reads.");
            }

            if (mapping.IsReference && (string.IsNullOrEmpty(mapping.ReferenceField) || !IsFieldName(mapping.ReferenceTable!) || !IsFieldName(mapping.ReferenceField)))
            {
                failures.Add($"Provisioning:Mappings:{field} needs both ReferenceTable and ReferenceField as ServiceNow names.");
            }
        }

        foreach (var rule in options.ScopeRules)
        {
            if (Probe.Attribute(rule.Attribute) is null)
            {
                failures.Add($"Provisioning:ScopeRules: '{rule.Attribute}' is not a Graph user attribute EntraSnow reads.");
            }
        }

        foreach (var (setting, ids) in new[] { ("GroupIds", options.GroupIds), ("ScopeGroupIds", options.ScopeGroupIds) })
        {
            foreach (var id in ids.Where(id => !Guid.TryParse(id, out _)))
            {
                failures.Add($"Provisioning:{setting}: '{id}' is not an Entra group object id (a GUID).");
            }
        }

        var mappings = options.EffectiveMappings();
        foreach (var field in options.Adoption.MatchFields)
        {
            if (!mappings.TryGetValue(field, out var mapping) || mapping.IsReference || string.Equals(field, options.ObjectIdField, StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"Provisioning:Adoption:MatchOn: '{field}' is not a mapped sys_user field holding a plain Entra value (e.g. user_name, email).");
            }
        }

        if (options.Adoption.MatchFields.Distinct(StringComparer.OrdinalIgnoreCase).Count() != options.Adoption.MatchFields.Count)
        {
            failures.Add("Provisioning:Adoption:MatchOn names a field twice.");
        }

        var groupFields = options.Adoption.GroupMatchFields;
        if (groupFields.Any(f => !Groups.GroupAdoption.Fields.Contains(f, StringComparer.Ordinal)) || groupFields.Distinct(StringComparer.Ordinal).Count() != groupFields.Count)
        {
            failures.Add($"Provisioning:Adoption:GroupMatchOn '{options.Adoption.GroupMatchOn}': each of name, email at most once (or empty).");
        }

        if (options.Adoption.ConflictTask.Enabled && !IsFieldName(options.Adoption.ConflictTask.Table))
        {
            failures.Add("Provisioning:Adoption:ConflictTask:Table must name a ServiceNow table.");
        }

        if (options.Onboarding.Enabled && !IsFieldName(options.Onboarding.Table))
        {
            failures.Add("Provisioning:Onboarding:Table must name a ServiceNow table.");
        }

        if (options.Offboarding.Enabled && !IsFieldName(options.Offboarding.Table))
        {
            failures.Add("Provisioning:Offboarding:Table must name a ServiceNow table.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsFieldName(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
