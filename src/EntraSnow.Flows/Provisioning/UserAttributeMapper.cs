using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

/// <summary>A reference the fail policy does not let us write around; the user fails with this reason.</summary>
internal sealed class UnresolvedReferenceException(string field, string table, string referenceField, string value)
    : Exception($"{field}: no {table} record has {referenceField} '{value}' (InvalidLookupReference); the mapping's policy is Fail.")
{
    public string Field { get; } = field;
}

/// <param name="Fields">sys_user field to value; reference fields hold sys_ids.</param>
/// <param name="Pending">Fields left out for now because the referenced record does not exist yet (field to Entra value).</param>
/// <param name="Notes">Why fields were left empty or references created, for the provisioning log.</param>
internal sealed record MappedUser(Dictionary<string, string?> Fields, IReadOnlyDictionary<string, string> Pending, IReadOnlyList<string> Notes);

/// <summary>Turns a Graph user into sys_user fields with the configured mappings and reference policies.</summary>
internal sealed class UserAttributeMapper(IServiceNowReferences references, ProvisionedUserIds provisioned, IOptions<ProvisioningOptions> options, TimeProvider clock)
    : IForgetFailuresOnReplay
{
    /// <summary>How long "ServiceNow has no such department/location" is believed without asking again.</summary>
    private static readonly TimeSpan MissTimeToLive = TimeSpan.FromMinutes(1);

    private readonly string _objectIdField = options.Value.ObjectIdField;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Table, string Field, string Value), DateTimeOffset> _misses = new();
    private readonly IReadOnlyDictionary<string, AttributeMapping> _mappings = options.Value.EffectiveMappings();

    /// <param name="knownManager">A manager's sys_user the caller already knows (the full sync read it), used when it is still the user's manager.</param>
    public async Task<MappedUser> MapAsync(DirectoryUser user, CancellationToken cancellationToken, (string ObjectId, string SysId)? knownManager = null)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
        var pending = new Dictionary<string, string>(StringComparer.Ordinal);
        var notes = new List<string>();
        foreach (var (field, mapping) in _mappings)
        {
            var value = user.Attribute(mapping.Source!);
            if (!mapping.IsReference)
            {
                // An attribute cleared in Entra clears the field: "" is how the Table API empties a field.
                fields[field] = value ?? string.Empty;
                continue;
            }

            if (string.IsNullOrWhiteSpace(value))
            {
                fields[field] = string.Empty;
                continue;
            }

            var table = mapping.ReferenceTable!;
            var referenceField = mapping.ReferenceField!;
            var policy = mapping.OnMissingReference ?? MissingReferencePolicy.Fail;
            var sysId = table == "sys_user" && referenceField == _objectIdField
                ? (knownManager is { } known && string.Equals(value, known.ObjectId, StringComparison.OrdinalIgnoreCase) ? known.SysId : provisioned.Find(value))
                : null;
            if (sysId is null && !KnownMissing(table, referenceField, value, policy))
            {
                sysId = await references.FindAsync(table, referenceField, value, cancellationToken);
                if (sysId is null && policy is MissingReferencePolicy.Fail or MissingReferencePolicy.LeaveEmpty)
                {
                    // The reference cache keeps hits only; 10,000 users in an office ServiceNow lacks would ask 10,000 times.
                    _misses[(table, referenceField, value)] = clock.GetUtcNow() + MissTimeToLive;
                }
            }

            if (sysId is not null)
            {
                fields[field] = sysId;
                continue;
            }

            switch (policy)
            {
                case MissingReferencePolicy.Fail:
                    throw new UnresolvedReferenceException(field, table, referenceField, value);
                case MissingReferencePolicy.LeaveEmpty:
                    fields[field] = string.Empty;
                    notes.Add($"{field} left empty: no {table} record has {referenceField} '{value}'");
                    break;
                case MissingReferencePolicy.Create:
                    fields[field] = await references.FindOrCreateAsync(table, referenceField, value, cancellationToken);
                    notes.Add($"{field}: created {table} '{value}' if it was missing");
                    break;
                case MissingReferencePolicy.ResolveLater:
                    // Left out rather than emptied: a manager already on the record stays until the new one exists.
                    pending[field] = value;
                    break;
            }
        }

        if (ProvisioningTrace.Active)
        {
            Trace(user, fields, pending);
        }

        return new MappedUser(fields, pending, notes);
    }

    /// <summary>What the mapping made of the user, for provision on demand: plain fields, then each reference.</summary>
    private void Trace(DirectoryUser user, Dictionary<string, string?> fields, Dictionary<string, string> pending)
    {
        ProvisioningTrace.Step("mapping", string.Join(", ", _mappings.Where(m => !m.Value.IsReference)
            .Select(m => $"{m.Key} = '{fields.GetValueOrDefault(m.Key)}' ({m.Value.Source})")));
        var references = _mappings.Where(m => m.Value.IsReference).Select(m =>
        {
            var value = user.Attribute(m.Value.Source!);
            var target = $"{m.Value.ReferenceTable}.{m.Value.ReferenceField}";
            if (string.IsNullOrWhiteSpace(value))
            {
                return $"{m.Key}: {m.Value.Source} is empty, field cleared";
            }

            if (pending.ContainsKey(m.Key))
            {
                return $"{m.Key}: no {target} '{value}' yet, resolved later";
            }

            return fields.GetValueOrDefault(m.Key) is { Length: > 0 } sysId
                ? $"{m.Key}: '{value}' → {m.Value.ReferenceTable} {sysId}"
                : $"{m.Key}: no {target} '{value}', left empty";
        }).ToList();
        ProvisioningTrace.Step("references", references.Count == 0 ? "none mapped" : string.Join("; ", references));
    }

    /// <summary>A replay follows a fix (the department created): the replayed users look the reference up again.</summary>
    public void ForgetFailures() => _misses.Clear();

    private bool KnownMissing(string table, string field, string value, MissingReferencePolicy policy) =>
        policy is MissingReferencePolicy.Fail or MissingReferencePolicy.LeaveEmpty &&
        _misses.TryGetValue((table, field, value), out var until) && until > clock.GetUtcNow();
}
