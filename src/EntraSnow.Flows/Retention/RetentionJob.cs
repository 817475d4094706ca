using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Scheduling;
using EntraSnow.Flows.ServiceNowWebhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Retention;

/// <summary>What one retention run deleted.</summary>
public sealed record RetentionReport(int LogEntries, int DeletedObjectCheckpoints, int SyncRuns, int WebhookRequestIds, int DeadLetters);

/// <summary>
/// The retention rule, on <see cref="RetentionOptions.Schedule"/> in both hosts: provisioning log entries past
/// <see cref="RetentionOptions.ProvisioningLog"/>, the checkpoints of objects deleted in Entra ID, stale notes of
/// EntraSnow's own membership changes and the checkpoints of sync runs past
/// <see cref="RetentionOptions.DeletedObjects"/>, webhook request ids past their replay window, and the host's own
/// queue data (the local host's dead letters past <see cref="RetentionOptions.DeadLetters"/>, then the freed space).
/// Each part is idempotent: a run cut off half-way leaves the rest to the next.
/// </summary>
public sealed class RetentionJob(
    IProvisioningLog log,
    DeletedObjects deletedObjects,
    IWebhookReplayStore webhookRequests,
    IEnumerable<IHostDataRetention> hostData,
    IOptions<RetentionOptions> options,
    TimeProvider clock,
    ILogger<RetentionJob> logger) : IScheduledJob
{
    public string Name => JobNames.Retention;

    public TimeSpan Interval => TimeSpan.FromDays(1);

    public CronSchedule? Schedule => CronSchedule.Parse(options.Value.Schedule);

    public bool RunOnStart => false;

    Task IScheduledJob.RunAsync(CancellationToken cancellationToken) => RunAsync(cancellationToken);

    public async Task<RetentionReport> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var logEntries = await log.PurgeOlderThanAsync(now - settings.ProvisioningLog, cancellationToken);
        var checkpoints = await deletedObjects.PurgeAsync(now - settings.DeletedObjects, cancellationToken)
            + await deletedObjects.PurgeStaleOwnChangeNotesAsync(now - settings.DeletedObjects, cancellationToken);
        var syncRuns = await deletedObjects.PurgeFinishedSyncRunsAsync(now - settings.DeletedObjects, cancellationToken);
        var requestIds = await webhookRequests.PurgeExpiredAsync(now, cancellationToken);
        var deadLetters = 0;
        foreach (var data in hostData)
        {
            deadLetters += await data.PurgeAsync(now - settings.DeadLetters, cancellationToken);
        }

        var report = new RetentionReport(logEntries, checkpoints, syncRuns, requestIds, deadLetters);
        logger.LogInformation(
            "Retention deleted {LogEntries} provisioning log entries, {Checkpoints} checkpoints of deleted objects, {SyncRuns} old sync run records, {RequestIds} webhook request ids and {DeadLetters} dead letters",
            report.LogEntries, report.DeletedObjectCheckpoints, report.SyncRuns, report.WebhookRequestIds, report.DeadLetters);
        return report;
    }
}
