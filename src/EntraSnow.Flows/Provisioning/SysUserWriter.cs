using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

/// <summary>
/// Writes a user's sys_user (<see cref="AdoptingWriter"/>: the linked record, else an adopted one, else a new one). What
/// the full sync already found out (no record, a record to adopt, a conflict) is taken from the message the first
/// time, saving the lookups.
/// </summary>
internal sealed class SysUserWriter(IServiceNowTable serviceNow, IOptions<ProvisioningOptions> options)
{
    private readonly UserAdoption _adoption = new(options.Value);
    private readonly AdoptingWriter _writer = new(serviceNow, ProvisionUserHandler.UserTable, options.Value.ObjectIdField);

    /// <param name="fields">Every field to write, the object id and matching fields included.</param>
    /// <param name="firstAttempt">No earlier attempt may have written this user, so what the full sync found still holds.</param>
    public async Task<RecordWriteResult> WriteAsync(DirectoryUser user, Dictionary<string, string?> fields, ChangeMessage message, bool firstAttempt, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (firstAttempt && _adoption.Enabled && message.Property(ProvisioningMessageProperties.AdoptionConflict) == "true")
        {
            return new RecordWriteResult(RecordWriteOutcome.Conflict, message.Property(ProvisioningMessageProperties.AdoptSysId), [],
                message.Property(ProvisioningMessageProperties.AdoptionReason));
        }

        if (firstAttempt && _adoption.Enabled && message.Property(ProvisioningMessageProperties.AdoptSysId) is { Length: > 0 } adopt)
        {
            return await _writer.AdoptAsync(adopt, fields, message.Property(ProvisioningMessageProperties.AdoptionReason), cancellationToken);
        }

        if (firstAttempt && message.Property(ProvisioningMessageProperties.AbsentInServiceNow) == "true")
        {
            return await _writer.CreateAsync(fields, cancellationToken);
        }

        if (_adoption.Enabled)
        {
            return await _writer.WriteAsync(user.Id, fields, _adoption.MatchValues(user), _adoption.CandidateFields, sharedBy: null, cancellationToken);
        }

        var result = await serviceNow.UpsertAsync(ProvisionUserHandler.UserTable, settings.EffectiveMatchingField, fields[settings.EffectiveMatchingField]!, fields, cancellationToken);
        return ToWriteResult(result);
    }

    public static RecordWriteResult ToWriteResult(UpsertResult result) => new(result.Outcome switch
    {
        UpsertOutcome.Created => RecordWriteOutcome.Created,
        UpsertOutcome.Updated => RecordWriteOutcome.Updated,
        _ => RecordWriteOutcome.Unchanged,
    }, result.SysId, result.ChangedFields);
}
