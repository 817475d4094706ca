using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Consumers;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.ServiceNow;

/// <summary>The access-requests consumer: sessions keep one person's requests one at a time.</summary>
internal sealed class AccessRequestFunctions(ServiceBusDelivery delivery)
{
    private const string Connection = "ServiceBusConnection";

    [Function("FulfilAccessRequests")]
    public Task FulfilAccessRequests(
        [ServiceBusTrigger(QueueNames.AccessRequests, Connection = Connection, IsSessionsEnabled = true, AutoCompleteMessages = false)] ServiceBusReceivedMessage message,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken) =>
        delivery.ProcessAsync(QueueNames.AccessRequests, message, actions, cancellationToken);
}
