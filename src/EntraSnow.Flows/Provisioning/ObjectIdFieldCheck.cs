using System.Collections.Concurrent;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

/// <summary>
/// Whether sys_user and sys_user_group have the Entra object id field (<c>Provisioning:ObjectIdField</c>), read from
/// <c>sys_dictionary</c> once per table. Without it a real instance silently drops the object id on every insert and
/// ignores it in every lookup, so each sync would create everyone again: provisioning refuses to write instead.
/// </summary>
public sealed class ObjectIdFieldCheck(IServiceNowTable serviceNow, IOptions<ProvisioningOptions> options)
{
    private const string Dictionary = "sys_dictionary";
    private readonly ConcurrentDictionary<string, bool> _present = new(StringComparer.Ordinal);

    /// <summary>Null when the field exists (or sys_dictionary cannot tell: not readable by this account), else why not.</summary>
    public async Task<string?> ProblemAsync(string table, CancellationToken cancellationToken = default)
    {
        if (_present.ContainsKey(table))
        {
            return null;
        }

        var field = options.Value.ObjectIdField;
        try
        {
            if (await serviceNow.FindAsync(Dictionary, EncodedQuery.Where("name", table).And("element", field), ["sys_id", "element"], cancellationToken) is { } row
                && string.Equals(row["element"], field, StringComparison.Ordinal))
            {
                _present[table] = true;
                return null;
            }

            // An account that cannot read the dictionary sees no row at all: that proves nothing either way.
            if (await serviceNow.FindAsync(Dictionary, EncodedQuery.Where("name", table), ["sys_id"], cancellationToken) is null)
            {
                _present[table] = true;
                return null;
            }
        }
        catch (ServiceNowForbiddenException)
        {
            _present[table] = true;
            return null;
        }

        return $"{table} has no field {field} (sys_dictionary): ServiceNow would drop the Entra object id on every write and ignore it in " +
            $"every lookup, so nothing is written. Install EntraSnow's ServiceNow app (servicenow/) and set Provisioning:ObjectIdField=x_entrasnow_entra_object_id, " +
            $"or add the field {field} to {table}; then replay the dead letters.";
    }

    /// <summary>Throws a permanent failure (the message is dead-lettered with the reason) when the field is missing.</summary>
    public async Task EnsureAsync(string table, CancellationToken cancellationToken)
    {
        if (await ProblemAsync(table, cancellationToken) is { } problem)
        {
            throw new PermanentFailureException(problem);
        }
    }
}
