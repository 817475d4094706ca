using System.Diagnostics.Metrics;

namespace EntraSnow.Flows.Subscriptions;

/// <summary>
/// When each resource's Graph subscription expires (Meter <c>EntraSnow.Subscriptions</c>), recorded whenever upkeep
/// creates, renews or finds it fresh. A gauge of Unix seconds rather than "hours left", so the last value reported stays
/// true as time passes: the workbook and the "expiring within 24 h" alert compare it with the time they run, and an app
/// that stopped renewing is caught by the value running out, not by the gauge going quiet.
/// </summary>
public static class SubscriptionTelemetry
{
    public const string Name = "EntraSnow.Subscriptions";

    public const string ExpirationMetric = "entrasnow.subscriptions.expiration";

    /// <summary>The subscribed resource, as configured (<c>users</c>, <c>groups</c>), without slashes.</summary>
    public const string ResourceTag = "resource";

    private static readonly Meter Meter = new(Name);

    private static readonly Gauge<long> Expiration = Meter.CreateGauge<long>(
        ExpirationMetric, unit: "s", description: "Expiration of the resource's Graph subscription, in Unix seconds.");

    public static void Expires(string resource, DateTimeOffset expiration) =>
        Expiration.Record(expiration.ToUnixTimeSeconds(), new KeyValuePair<string, object?>(ResourceTag, resource.Trim('/')));
}
