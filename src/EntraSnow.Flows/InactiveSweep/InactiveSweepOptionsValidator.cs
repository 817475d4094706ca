using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>Cross-field rules data annotations cannot express; each failure names its setting.</summary>
internal sealed class InactiveSweepOptionsValidator : IValidateOptions<InactiveSweepOptions>
{
    public ValidateOptionsResult Validate(string? name, InactiveSweepOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled && string.IsNullOrWhiteSpace(options.AssignmentGroup))
        {
            failures.Add("InactiveSweep:AssignmentGroup is required when InactiveSweep:Enabled is true: name the sys_user_group reviews go to.");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceAccountAttribute) != string.IsNullOrWhiteSpace(options.ServiceAccountValue))
        {
            failures.Add("InactiveSweep:ServiceAccountAttribute and InactiveSweep:ServiceAccountValue are set together or not at all.");
        }

        if (options.GraceDays is not null && !options.DisableAccounts)
        {
            failures.Add("InactiveSweep:GraceDays is set but InactiveSweep:DisableAccounts is not: set both, or neither.");
        }

        if (options.DisableAccounts && options.Mode != ReviewMode.TaskPerAccount)
        {
            failures.Add("InactiveSweep:DisableAccounts needs InactiveSweep:Mode=TaskPerAccount: a single review request cannot approve accounts one by one.");
        }

        if (!CronSchedule.TryParse(options.Schedule, out _, out var scheduleError))
        {
            failures.Add($"InactiveSweep:Schedule: {scheduleError}");
        }

        if (!IsFieldName(options.Table))
        {
            failures.Add($"InactiveSweep:Table '{options.Table}' is not a ServiceNow table name.");
        }

        for (var i = 0; i < options.BreakGlassGroupIds.Count; i++)
        {
            if (!Guid.TryParse(options.BreakGlassGroupIds[i], out _))
            {
                failures.Add($"InactiveSweep:BreakGlassGroupIds:{i} '{options.BreakGlassGroupIds[i]}' is not a group object id.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsFieldName(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');
}
