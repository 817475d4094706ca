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
internal sealed class SysUserWriter(IServiceNowTable serviceNow, IDirectory directory, IOptions<ProvisioningOptions> options)
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
            ProvisioningTrace.Step("match", message.Property(ProvisioningMessageProperties.AdoptionReason) ?? "conflict found by the full sync");
            return new RecordWriteResult(RecordWriteOutcome.Conflict, message.Property(ProvisioningMessageProperties.AdoptSysId), [],
                message.Property(ProvisioningMessageProperties.AdoptionReason));
        }

        if (firstAttempt && _adoption.Enabled && message.Property(ProvisioningMessageProperties.AdoptSysId) is { Length: > 0 } adopt)
        {
            ProvisioningTrace.Step("match", message.Property(ProvisioningMessageProperties.AdoptionReason) ?? $"the full sync found {ProvisionUserHandler.UserTable} {adopt} to adopt");
            return await _writer.AdoptAsync(adopt, fields, message.Property(ProvisioningMessageProperties.AdoptionReason), cancellationToken);
        }

        if (firstAttempt && message.Property(ProvisioningMessageProperties.AbsentInServiceNow) == "true")
        {
            ProvisioningTrace.Step("match", $"the full sync found no {ProvisionUserHandler.UserTable} for this user");
            return await _writer.CreateAsync(fields, cancellationToken);
        }

        if (_adoption.Enabled)
        {
            return await _writer.WriteAsync(user.Id, fields, _adoption.MatchValues(user), _adoption.CandidateFields, sharedBy: null, cancellationToken,
                (decision, token) => ReuseAsync(decision, fields, token));
        }

        var result = await serviceNow.UpsertAsync(ProvisionUserHandler.UserTable, settings.EffectiveMatchingField, fields[settings.EffectiveMatchingField]!, fields, cancellationToken);
        ProvisioningTrace.Step("match", $"matched on {settings.EffectiveMatchingField} '{fields[settings.EffectiveMatchingField]}'");
        ProvisioningTrace.Step("write", $"{result.Outcome.ToString().ToLowerInvariant()} {ProvisionUserHandler.UserTable} {result.SysId}{(result.ChangedFields.Count == 0 ? string.Empty : $": {string.Join(", ", result.ChangedFields)}")}");
        return ToWriteResult(result);
    }

    /// <summary>
    /// The user's name is on an inactive record linked to another object. If Entra still has that object, the record is
    /// not ours to take (a conflict); if not, <see cref="AdoptionOptions.Rehire"/> decides.
    /// </summary>
    private async Task<RecordWriteResult> ReuseAsync(AdoptionDecision decision, Dictionary<string, string?> fields, CancellationToken cancellationToken)
    {
        var previous = await directory.GetUserAsync(decision.LinkedTo!, cancellationToken);
        if (previous is { Removed: null })
        {
            return new RecordWriteResult(RecordWriteOutcome.Conflict, decision.SysId, [], decision.Reason);
        }

        var policy = options.Value.Adoption.Rehire;
        var what = $"the inactive sys_user with {decision.Field} '{decision.Value}' ({decision.SysId}) belonged to Entra object {decision.LinkedTo}, which Entra no longer has";
        switch (policy)
        {
            case RehirePolicy.Relink:
                return await _writer.AdoptAsync(decision.SysId!, fields, $"relinked: {what}; reactivated with its history (rehire policy Relink)", cancellationToken);
            case RehirePolicy.New:
                var formerName = $"{decision.Value}.former-{decision.LinkedTo![..Math.Min(8, decision.LinkedTo!.Length)]}";
                await serviceNow.UpdateAsync(ProvisionUserHandler.UserTable, decision.SysId!,
                    new Dictionary<string, string?>(StringComparer.Ordinal) { [decision.Field!] = formerName }, cancellationToken);
                ProvisioningTrace.Step("write", $"renamed {ProvisionUserHandler.UserTable} {decision.SysId}: {decision.Field} '{decision.Value}' → '{formerName}'");
                var created = await _writer.CreateAsync(fields, cancellationToken);
                return created with { Reason = $"created: {what}; it keeps its history as {decision.Field} '{formerName}' (rehire policy New)" };
            default:
                return new RecordWriteResult(RecordWriteOutcome.Conflict, decision.SysId, [],
                    $"conflict: {what}; the rehire policy is Fail: nothing written", AskPerson: true);
        }
    }

    public static RecordWriteResult ToWriteResult(UpsertResult result) => new(result.Outcome switch
    {
        UpsertOutcome.Created => RecordWriteOutcome.Created,
        UpsertOutcome.Updated => RecordWriteOutcome.Updated,
        _ => RecordWriteOutcome.Unchanged,
    }, result.SysId, result.ChangedFields);
}
