// Stand-ins, declared to match the public surface of Microsoft.Azure.Functions.Worker(.Extensions.*) 2.x.
namespace Microsoft.Azure.Functions.Worker;

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.FunctionAttribute.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FunctionAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Stand-in for the extensions' common base of trigger attributes.</summary>
public abstract class TriggerBindingAttribute : Attribute;

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.AuthorizationLevel.</summary>
public enum AuthorizationLevel
{
    Anonymous,
    User,
    Function,
    System,
    Admin,
}

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.HttpTriggerAttribute (Extensions.Http).</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class HttpTriggerAttribute : TriggerBindingAttribute
{
    public HttpTriggerAttribute() => AuthLevel = AuthorizationLevel.Function;

    public HttpTriggerAttribute(AuthorizationLevel authLevel) => AuthLevel = authLevel;

    public HttpTriggerAttribute(params string[] methods) : this() => Methods = methods;

    public HttpTriggerAttribute(AuthorizationLevel authLevel, params string[] methods)
    {
        AuthLevel = authLevel;
        Methods = methods;
    }

    public string? Route { get; set; }

    public string[]? Methods { get; }

    public AuthorizationLevel AuthLevel { get; }
}

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.ServiceBusTriggerAttribute (Extensions.ServiceBus 5.x).</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class ServiceBusTriggerAttribute : TriggerBindingAttribute
{
    public ServiceBusTriggerAttribute(string queueName) => QueueName = queueName;

    public ServiceBusTriggerAttribute(string topicName, string subscriptionName)
    {
        TopicName = topicName;
        SubscriptionName = subscriptionName;
    }

    public string? Connection { get; set; }

    public string? QueueName { get; }

    public string? TopicName { get; }

    public string? SubscriptionName { get; }

    public bool IsSessionsEnabled { get; set; }

    public bool IsBatched { get; set; }

    public bool AutoCompleteMessages { get; set; } = true;
}

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.TimerTriggerAttribute (Extensions.Timer).</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class TimerTriggerAttribute(string schedule) : TriggerBindingAttribute
{
    public string Schedule { get; } = schedule;

    public bool RunOnStartup { get; set; }

    public bool UseMonitor { get; set; } = true;
}

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.EventGridTriggerAttribute (Extensions.EventGrid).</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class EventGridTriggerAttribute : TriggerBindingAttribute
{
    public bool IsBatched { get; set; }
}
