using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.Consumers;

/// <summary>One ServiceBusTrigger per queue that has a consumer. Sessions keep one object's messages one at a time.</summary>
internal sealed class QueueConsumerFunctions(ServiceBusDelivery delivery)
{
    private const string Connection = "ServiceBusConnection";

    [Function("ProvisionUsers")]
    public Task ProvisionUsers(
        [ServiceBusTrigger(QueueNames.UserChanges, Connection = Connection, IsSessionsEnabled = true, AutoCompleteMessages = false)] ServiceBusReceivedMessage message,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken) =>
        delivery.ProcessAsync(QueueNames.UserChanges, message, actions, cancellationToken);

    [Function("ProvisionGroups")]
    public Task ProvisionGroups(
        [ServiceBusTrigger(QueueNames.GroupChanges, Connection = Connection, IsSessionsEnabled = true, AutoCompleteMessages = false)] ServiceBusReceivedMessage message,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken) =>
        delivery.ProcessAsync(QueueNames.GroupChanges, message, actions, cancellationToken);

    [Function("HandleSubscriptionLifecycle")]
    public Task HandleSubscriptionLifecycle(
        [ServiceBusTrigger(QueueNames.SubscriptionLifecycle, Connection = Connection, IsSessionsEnabled = true, AutoCompleteMessages = false)] ServiceBusReceivedMessage message,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken) =>
        delivery.ProcessAsync(QueueNames.SubscriptionLifecycle, message, actions, cancellationToken);
}
