using System.ComponentModel.DataAnnotations;
using EntraSnow.Flows.Scheduling;

namespace EntraSnow.Flows.Tests.Scheduling;

public sealed class CronScheduleTests
{
    private static readonly DateTimeOffset Monday0259 = new(2026, 11, 30, 2, 59, 30, TimeSpan.Zero);

    [Theory]
    [InlineData("0 0 3 * * *", "2026-11-30T03:00:00Z")]
    [InlineData("0 */5 * * * *", "2026-11-30T03:00:00Z")]
    [InlineData("30 59 2 * * *", "2026-12-01T02:59:30Z")]
    public void Next_occurrence_is_strictly_after_now_in_utc(string expression, string expected)
    {
        var next = CronSchedule.Parse(expression).NextAfter(Monday0259);

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Fact]
    public void Next_occurrence_of_a_time_given_in_another_offset_is_computed_in_utc()
    {
        var inParis = new DateTimeOffset(2026, 11, 30, 3, 59, 30, TimeSpan.FromHours(1));

        Assert.Equal(new DateTimeOffset(2026, 11, 30, 3, 0, 0, TimeSpan.Zero), CronSchedule.Parse("0 0 3 * * *").NextAfter(inParis));
    }

    [Theory]
    [InlineData("*/5 * * * *", "five fields")]
    [InlineData("0 0 25 * * *", "not a valid schedule")]
    [InlineData("every day", "fields")]
    public void A_malformed_expression_is_refused_with_the_reason(string expression, string because)
    {
        var error = Assert.Throws<FormatException>(() => CronSchedule.Parse(expression));

        Assert.Contains(expression, error.Message, StringComparison.Ordinal);
        Assert.Contains(because.Split(' ')[^1], error.Message, StringComparison.Ordinal);
    }

    private sealed class TimerSettings
    {
        [CronSchedule]
        public string? Schedule { get; set; }
    }

    [Fact]
    public void Validation_names_the_setting_and_the_reason()
    {
        var settings = new TimerSettings { Schedule = "0 0 3 * *" };
        var results = new List<ValidationResult>();

        var valid = Validator.TryValidateObject(settings, new ValidationContext(settings), results, validateAllProperties: true);

        Assert.False(valid);
        var message = Assert.Single(results).ErrorMessage;
        Assert.StartsWith("Schedule:", message, StringComparison.Ordinal);
        Assert.Contains("six", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_accepts_a_six_field_schedule()
    {
        var settings = new TimerSettings { Schedule = "0 0 3 * * *" };

        Assert.True(Validator.TryValidateObject(settings, new ValidationContext(settings), [], validateAllProperties: true));
    }
}
