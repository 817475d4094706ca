using EntraSnow.Flows.Retention;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.Retention;

/// <summary>Retention of the Table storage data and of Service Bus's dead letters, on the schedule the Retention:Schedule app setting holds (default daily 03:30 UTC).</summary>
internal sealed class RetentionFunctions(RetentionJob job)
{
    public const string Schedule = "%Retention:Schedule%";

    [Function("Retention")]
    public Task Retention([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken) => job.RunAsync(cancellationToken);
}
