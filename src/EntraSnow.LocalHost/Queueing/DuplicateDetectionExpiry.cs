namespace EntraSnow.LocalHost.Queueing;

/// <summary>
/// Forgets expired duplicate-detection rows every few minutes, whatever <c>LocalHost:RunConsumers</c> and
/// <c>LocalHost:RunTimers</c> say: intake adds a row per message it queues, so a host that only takes in would grow them for ever.
/// </summary>
internal sealed class DuplicateDetectionExpiry(SqliteQueueStore queues, TimeProvider clock, ILogger<DuplicateDetectionExpiry> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await queues.PurgeExpiredDedupeAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Could not forget expired duplicate-detection rows; trying again in {Interval}", Interval);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
