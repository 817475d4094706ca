using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Tests.Messaging;

public sealed class MessagingOptionsTests
{
    private static ValidateOptionsResult Validate(MessagingOptions options) =>
        new DataAnnotationValidateOptions<MessagingOptions>(Options.DefaultName).Validate(Options.DefaultName, options);

    [Fact]
    public void A_delay_out_of_range_is_refused_with_a_message_naming_the_setting_and_its_range()
    {
        var result = Validate(new MessagingOptions { MaxRescheduleDelay = TimeSpan.FromDays(3) });

        Assert.True(result.Failed);
        Assert.Contains("MaxRescheduleDelay must be between 00:00:01 and 1.00:00:00", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validating_on_many_threads_at_once_never_throws()
    {
        // The framework's RangeAttribute(typeof(TimeSpan), …) converted its bounds lazily and raced here.
        var failures = 0;
        Parallel.For(0, 2_000, _ =>
        {
            if (Validate(new MessagingOptions()).Failed)
            {
                Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(0, failures);
    }
}
