// Stand-in declared from the public surface of Microsoft.Azure.Functions.Worker.Extensions.EventGrid 3.x.
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.EventGridTriggerAttribute (one event per invocation unless batched).</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class EventGridTriggerAttribute : TriggerBindingAttribute
{
    [DefaultValue(false)]
    public bool IsBatched { get; set; }
}
