// Stand-in declared from the public surface of Microsoft.Azure.Functions.Worker.Extensions.ServiceBus 5.x.
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>
/// Stand-in for Microsoft.Azure.Functions.Worker.ServiceBusTriggerAttribute. The Worker SDK's generators read it like the
/// real one: a TriggerBindingAttribute whose set properties become the binding's metadata, with IsBatched giving the
/// cardinality (its [DefaultValue(false)] tells the generator what an unset value means).
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class ServiceBusTriggerAttribute : TriggerBindingAttribute, ISupportCardinality
{
    public ServiceBusTriggerAttribute(string queueName) => QueueName = queueName;

    public ServiceBusTriggerAttribute(string topicName, string subscriptionName)
    {
        TopicName = topicName;
        SubscriptionName = subscriptionName;
    }

    /// <summary>The app-setting prefix of the connection (e.g. ServiceBusConnection__fullyQualifiedNamespace).</summary>
    public string? Connection { get; set; }

    public string? QueueName { get; }

    public string? TopicName { get; }

    public string? SubscriptionName { get; }

    public bool IsSessionsEnabled { get; set; }

    /// <summary>No default of its own: when not set, host.json's serviceBus.autoCompleteMessages decides.</summary>
    public bool AutoCompleteMessages { get; set; }

    [DefaultValue(false)]
    public bool IsBatched { get; set; }

    Cardinality ISupportCardinality.Cardinality
    {
        get => IsBatched ? Cardinality.Many : Cardinality.One;
        set => IsBatched = value == Cardinality.Many;
    }
}
