using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using EntraSnow.Functions.Consumers;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.Risk;

/// <summary>
/// Risk detections: the poller's timer (its schedule is the <c>Risk:PollSchedule</c> app setting, default every 5 minutes)
/// and the consumer that turns queued detections into ServiceNow incidents (one user's detections one at a time).
/// </summary>
internal sealed class RiskFunctions(IEnumerable<IScheduledJob> jobs, ServiceBusDelivery delivery)
{
    public const string PollScheduleSetting = "%Risk:PollSchedule%";

    [Function("PollRiskDetections")]
    public Task PollRiskDetections([TimerTrigger(PollScheduleSetting)] TimerInfo timer, CancellationToken cancellationToken) =>
        jobs.RunAsync(JobNames.RiskPoll, cancellationToken);

    [Function("OpenRiskIncidents")]
    public Task OpenRiskIncidents(
        [ServiceBusTrigger(QueueNames.RiskDetections, Connection = "ServiceBusConnection", IsSessionsEnabled = true, AutoCompleteMessages = false)] ServiceBusReceivedMessage message,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken) =>
        delivery.ProcessAsync(QueueNames.RiskDetections, message, actions, cancellationToken);
}
