using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Flows.Messaging;

/// <summary>Settings under <c>Messaging</c>: how failing messages are retried before they are dead-lettered.</summary>
public sealed class MessagingOptions
{
    public const string Section = "Messaging";

    /// <summary>Quick retries inside one delivery, for blips (a 503, a dropped connection).</summary>
    [Range(0, 10)]
    public int InlineRetries { get; set; } = 2;

    /// <summary>First wait between inline retries; it doubles each time.</summary>
    [TimeSpanRange("00:00:00", "00:01:00")]
    public TimeSpan InlineRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries before a message that keeps failing transiently is dead-lettered.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 15;

    /// <summary>First reschedule delay; it doubles each attempt up to <see cref="MaxRescheduleDelay"/>.</summary>
    [TimeSpanRange("00:00:01", "01:00:00")]
    public TimeSpan FirstRescheduleDelay { get; set; } = TimeSpan.FromSeconds(30);

    [TimeSpanRange("00:00:01", "1.00:00:00")]
    public TimeSpan MaxRescheduleDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>While a connector is paused for a failed credential, one message tries it this often; the others wait (their attempts not counted).</summary>
    [TimeSpanRange("00:00:01", "01:00:00")]
    public TimeSpan PausedRetryDelay { get; set; } = TimeSpan.FromMinutes(1);
}
