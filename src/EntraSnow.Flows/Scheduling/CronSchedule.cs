using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Cronos;

namespace EntraSnow.Flows.Scheduling;

/// <summary>
/// A timer's schedule in the Functions TimerTrigger's NCRONTAB form: six fields, seconds first, UTC
/// (<c>0 */5 * * * *</c> is every five minutes). One syntax for both hosts, so a setting means the same on either.
/// </summary>
public sealed class CronSchedule
{
    private readonly CronExpression _expression;

    private CronSchedule(string text, CronExpression expression)
    {
        Text = text;
        _expression = expression;
    }

    public string Text { get; }

    /// <exception cref="FormatException">Not a six-field CRON expression; the message says why.</exception>
    public static CronSchedule Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var fields = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields != 6)
        {
            throw new FormatException($"'{text}' has {fields} fields; a schedule has six (second minute hour day month day-of-week), e.g. '0 */5 * * * *'.");
        }

        try
        {
            return new CronSchedule(trimmed, CronExpression.Parse(trimmed, CronFormat.IncludeSeconds));
        }
        catch (CronFormatException ex)
        {
            throw new FormatException($"'{text}' is not a valid schedule: {ex.Message}", ex);
        }
    }

    public static bool TryParse(string? text, out CronSchedule? schedule, out string? error)
    {
        schedule = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "a schedule is required";
            return false;
        }

        try
        {
            schedule = Parse(text);
            return true;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/> (UTC), or null if the expression never fires again.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after) =>
        _expression.GetNextOccurrence(after.ToUniversalTime(), TimeZoneInfo.Utc) is { } next ? next : null;

    public override string ToString() => Text;
}

/// <summary>A string setting must be a six-field CRON schedule (see <see cref="CronSchedule"/>); the start-up error names the setting.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false)]
public sealed class CronScheduleAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        if (value is null)
        {
            return ValidationResult.Success;
        }

        return CronSchedule.TryParse(value as string, out _, out var error)
            ? ValidationResult.Success
            : new ValidationResult(
                string.Format(CultureInfo.InvariantCulture, "{0}: {1}", validationContext.MemberName ?? validationContext.DisplayName, error),
                validationContext.MemberName is { } member ? [member] : null);
    }
}
