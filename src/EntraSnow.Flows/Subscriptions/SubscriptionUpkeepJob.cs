using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Subscriptions;

/// <summary>
/// "subscription-upkeep": on start and on a timer, create missing and renew expiring Graph subscriptions, and replace those
/// made with a clientState other than the current one (running on start is what makes a restart complete a rotation).
/// </summary>
internal sealed class SubscriptionUpkeepJob(SubscriptionUpkeep upkeep, IOptions<SubscriptionOptions> options) : IScheduledJob
{
    public const string JobName = "subscription-upkeep";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.UpkeepInterval;

    public bool RunOnStart => true;

    public Task RunAsync(CancellationToken cancellationToken) => upkeep.RunAsync(cancellationToken);
}
