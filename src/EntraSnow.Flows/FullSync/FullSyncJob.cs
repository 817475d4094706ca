using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.FullSync;

/// <summary>
/// The timer that repairs drift: starts a full sync from scratch every <see cref="ProvisioningOptions.FullSyncInterval"/>
/// and returns once the users are queued; the queues finish the run.
/// </summary>
internal sealed class FullSyncJob(FullSyncRunner runner, IOptions<ProvisioningOptions> options) : IScheduledJob
{
    public string Name => "full-sync";

    public TimeSpan Interval => options.Value.FullSyncInterval;

    public bool RunOnStart => false;

    public Task RunAsync(CancellationToken cancellationToken) =>
        runner.StartAsync(fromScratch: true, cancellationToken);
}
