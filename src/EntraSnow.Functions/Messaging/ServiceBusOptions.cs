using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Functions.Messaging;

/// <summary>Settings under <c>ServiceBus</c>: where the queue port sends (the triggers use <c>ServiceBusConnection__*</c>).</summary>
internal sealed class ServiceBusOptions
{
    public const string Section = "ServiceBus";

    /// <summary>e.g. <c>entrasnow-sb.servicebus.windows.net</c>.</summary>
    [Required(ErrorMessage = "ServiceBus:FullyQualifiedNamespace is required (e.g. mynamespace.servicebus.windows.net).")]
    public string FullyQualifiedNamespace { get; set; } = string.Empty;

    /// <summary>Overrides https://{namespace}/ (tests point it at a loopback server).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Messages per batch POST; Service Bus caps a batch at 1 MB (Premium) / 256 KB (Standard).</summary>
    [Range(1, 500)]
    public int MaxBatchSize { get; set; } = 100;

    public Uri BaseUri => Endpoint ?? new Uri($"https://{FullyQualifiedNamespace.TrimEnd('/')}/");
}
