using EntraSnow.Flows.Retention;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Stores;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Queueing;

/// <summary>
/// The local host's part of retention: dead letters past <c>Retention:DeadLetters</c>, expired duplicate-detection
/// rows, then the space every deletion freed in the data folder's SQLite files, given back step by step.
/// </summary>
internal sealed class LocalDataRetention(SqliteQueueStore queues, IOptions<LocalHostOptions> options, ILogger<LocalDataRetention> logger) : IHostDataRetention
{
    public async Task<int> PurgeAsync(DateTimeOffset deadLettersBefore, CancellationToken cancellationToken)
    {
        var deadLetters = await queues.PurgeDeadLettersAsync(deadLettersBefore, cancellationToken);
        await queues.PurgeExpiredDedupeAsync(cancellationToken);
        var pages = await queues.ReclaimSpaceAsync(cancellationToken);
        var paths = options.Value;
        foreach (var path in new[] { paths.CheckpointDatabase, paths.ProvisioningLogDatabase, paths.WebhookReplayDatabase })
        {
            pages += await SqliteSpace.ReclaimAsync(Path.GetFullPath(path), cancellationToken);
        }

        logger.LogInformation("Gave {Pages} free SQLite page(s) back to the disk", pages);
        return deadLetters;
    }
}
