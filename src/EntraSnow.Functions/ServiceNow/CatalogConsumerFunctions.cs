using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Consumers;
using Microsoft.Azure.Functions.Worker;

namespace EntraSnow.Functions.ServiceNow;

/// <summary>The catalog consumers: one ServiceBusTrigger per queue, sessions keeping one person's requests one at a time.</summary>
internal sealed class CatalogConsumerFunctions(ServiceBusDelivery delivery)
{
    private const string Connection = "ServiceBusConnection";

    [Function("ResetPasswords")]
    public Task ResetPasswords(
        [ServiceBusTrigger(QueueNames.PasswordResets, Connection = Connection, IsSessionsEnabled = true, AutoCompleteMessages = false)] ServiceBusReceivedMessage message,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken) =>
        delivery.ProcessAsync(QueueNames.PasswordResets, message, actions, cancellationToken);
}
