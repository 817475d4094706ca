using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace EntraSnow;

/// <summary>
/// A TimeSpan setting must lie within a range. Used instead of <c>[Range(typeof(TimeSpan), …)]</c>, whose lazy
/// conversion of its bounds is not thread-safe: options validated on two threads at once could fail with an
/// InvalidCastException. One source file, compiled into each project that validates TimeSpan settings.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false)]
internal sealed class TimeSpanRangeAttribute(string minimum, string maximum) : ValidationAttribute
{
    public TimeSpan Minimum { get; } = TimeSpan.Parse(minimum, CultureInfo.InvariantCulture);

    public TimeSpan Maximum { get; } = TimeSpan.Parse(maximum, CultureInfo.InvariantCulture);

    public override bool IsValid(object? value) => value is null || (value is TimeSpan span && span >= Minimum && span <= Maximum);

    public override string FormatErrorMessage(string name) =>
        string.Format(CultureInfo.InvariantCulture, "{0} must be between {1:c} and {2:c}.", name, Minimum, Maximum);
}
