namespace EntraSnow.Functions.Messaging;

/// <summary>Settings under <c>ServiceBus</c>: where the queue port sends (the triggers use <c>ServiceBusConnection__*</c>).</summary>
internal sealed class ServiceBusOptions
{
    public const string Section = "ServiceBus";

    /// <summary>e.g. <c>entrasnow-sb.servicebus.windows.net</c>, reached with the app's TokenCredential.</summary>
    public string FullyQualifiedNamespace { get; set; } = string.Empty;

    /// <summary>
    /// Instead of the namespace: a connection string, for the Service Bus emulator or a loopback test endpoint
    /// (<c>Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=...;SharedAccessKey=...;UseDevelopmentEmulator=true</c>).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long one send or schedule may take, retries included, before it fails: the HTTP intake answers 503 past it
    /// (Graph retries) instead of holding Graph's request.
    /// </summary>
    [TimeSpanRange("00:00:00.500", "00:01:00")]
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
