using System.Collections.Concurrent;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.FullSync.DryRun;

/// <summary>How far a dry run is: users decided of those the sync queued, and groups.</summary>
public sealed record DryRunProgress(string Phase, int UsersQueued, int UsersDecided, int GroupsDecided);

/// <summary>
/// <c>sync --dry-run</c>: a full sync that writes nothing. It is not a second implementation of the rules: the real
/// <see cref="FullSyncRunner"/> and the real user and group handlers run, composed over ports that read Graph and the
/// instance and hold every write back (<see cref="DryRunServiceNowTable"/>, <see cref="DryRunDirectory"/>), with the
/// queue, checkpoints and provisioning log in memory. The decisions they log and the writes they would have sent make
/// the report, so it says what the real sync then does.
/// </summary>
public sealed class SyncDryRun(IServiceProvider host)
{
    private const int ProgressEvery = 200;

    /// <summary>How often one message may come back (a groups run waiting for the users) before the dry run stops waiting.</summary>
    private const int MaxReturns = 20;

    public async Task<DryRunReport> RunAsync(IProgress<DryRunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var instance = host.GetRequiredService<IServiceNowTable>();
        var table = new DryRunServiceNowTable(instance);
        var names = new ConcurrentDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var queue = new DryRunQueue();
        var log = new DryRunLog();
        await using var rehearsal = Compose(table, names, queue, log);

        progress?.Report(new DryRunProgress("reading Entra ID and ServiceNow", 0, 0, 0));
        var runner = rehearsal.GetRequiredService<FullSyncRunner>();
        var runId = await runner.StartAsync(fromScratch: true, cancellationToken);
        async Task<int> QueuedAsync() => (await runner.GetProgressAsync(runId, cancellationToken))?.UsersQueued ?? 0;

        var handlers = rehearsal.GetServices<IMessageHandler>().ToDictionary(h => h.Queue, StringComparer.Ordinal);
        var returns = new Dictionary<string, int>(StringComparer.Ordinal);
        var handled = 0;
        var stoppedWaiting = new List<string>();
        while (queue.TryTake(out var queueName, out var message))
        {
            if (!handlers.TryGetValue(queueName, out var handler))
            {
                continue; // Work of other flows the sync would start; nothing a sync decides.
            }

            // A message that keeps coming back (a groups run that keeps waiting) is let go rather than looped on.
            var key = $"{queueName}:{message.Kind}:{message.SubjectId}:{message.CorrelationId}";
            returns[key] = returns.GetValueOrDefault(key) + 1;
            if (returns[key] > MaxReturns)
            {
                stoppedWaiting.Add($"{message.Kind} {message.SubjectId}");
                continue;
            }

            await HandleAsync(handler, message, log, cancellationToken);
            if (++handled % ProgressEvery == 0)
            {
                progress?.Report(Progress("deciding", await QueuedAsync(), log));
            }
        }

        var queued = await QueuedAsync();
        progress?.Report(Progress("reading the records to be changed", queued, log));
        var report = await DryRunReport.BuildAsync(runId, log.Entries, table.Writes, names, instance, stoppedWaiting, cancellationToken);
        progress?.Report(Progress("done", queued, log));
        return report;
    }

    private ServiceProvider Compose(DryRunServiceNowTable table, ConcurrentDictionary<string, string> names, DryRunQueue queue, DryRunLog log)
    {
        var services = new ServiceCollection();
        // The report is the output: the handlers' own log lines would only repeat it.
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        var clock = host.GetRequiredService<TimeProvider>();
        services.AddSingleton(clock);
        services.AddSingleton<IServiceNowTable>(table);
        // The connector's own reference cache, over the dry run's table.
        services.AddServiceNowConnector(new ConfigurationBuilder().Build());
        services.AddSingleton(DryRunDirectory.Create(host.GetRequiredService<IDirectory>(), table, names));
        services.AddSingleton<IMessageQueue>(queue);
        services.AddSingleton<ICheckpointStore>(new DryRunCheckpoints(host.GetRequiredService<ICheckpointStore>(), clock));
        services.AddSingleton<IProvisioningLog>(log);
        services.AddProvisioning(new ConfigurationBuilder().Build());
        // The host's settings, exactly as it resolved them (bound, post-configured): the dry run decides as its sync would.
        Forward<ProvisioningOptions>(services);
        Forward<GroupChangeOptions>(services);
        Forward<MessagingOptions>(services);
        Forward<ServiceNowOptions>(services);
        return services.BuildServiceProvider();
    }

    private void Forward<TOptions>(ServiceCollection services)
        where TOptions : class =>
        services.AddSingleton(host.GetRequiredService<IOptions<TOptions>>());

    /// <summary>
    /// A handler that throws has logged a permanent failure itself; a transient one (the real run would retry it) is logged
    /// here, so the report shows it and the groups run does not wait for it.
    /// </summary>
    private async Task HandleAsync(IMessageHandler handler, ChangeMessage message, DryRunLog log, CancellationToken cancellationToken)
    {
        var before = log.Count;
        try
        {
            await handler.HandleAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (log.Count == before)
            {
                await log.AppendAsync(new ProvisioningLogEntry
                {
                    Timestamp = host.GetRequiredService<TimeProvider>().GetUtcNow(),
                    CorrelationId = message.CorrelationId,
                    MessageId = message.MessageId,
                    SubjectId = message.SubjectId,
                    ObjectKind = handler.Queue == QueueNames.GroupChanges ? ProvisioningObjectKinds.Group : ProvisioningObjectKinds.User,
                    Action = ProvisioningAction.Failed,
                    Reason = $"{ex.Message} (the real sync retries this)",
                }, cancellationToken);
            }
        }
    }

    private static DryRunProgress Progress(string phase, int queued, DryRunLog log)
    {
        var summary = ProvisioningSummary.FromEntries(log.Entries);
        return new DryRunProgress(phase, queued, summary.Users.Total, summary.Groups.Total);
    }
}
