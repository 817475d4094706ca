using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Flows.Subscriptions;

/// <summary>How Graph delivers change notifications: to our webhook, or to an Event Grid partner topic.</summary>
public enum SubscriptionDelivery
{
    Webhook,
    EventGrid,
}

/// <summary>The parts of Graph's <c>EventGrid:?azuresubscriptionid=…&amp;resourcegroup=…&amp;partnertopic=…&amp;location=…</c> notification URL.</summary>
public sealed class EventGridDeliveryOptions
{
    public string? AzureSubscriptionId { get; set; }

    public string? ResourceGroup { get; set; }

    public string? PartnerTopic { get; set; }

    public string? Location { get; set; }
}

/// <summary>Settings under <c>Subscriptions</c>, plus the client state from <c>Graph:ClientState</c>. Validated at start-up.</summary>
public sealed class SubscriptionOptions : IValidatableObject
{
    public const string Section = "Subscriptions";

    /// <summary>Graph's ceiling for directory resources (users, groups).</summary>
    public const int MaxExpirationMinutes = 41_760;

    public SubscriptionDelivery Delivery { get; set; } = SubscriptionDelivery.Webhook;

    /// <summary>Webhook delivery: where Graph posts change notifications, e.g. <c>https://func-entrasnow.azurewebsites.net/api/graph/notifications</c>.</summary>
    public string? NotificationUrl { get; set; }

    /// <summary>Webhook delivery: where Graph posts lifecycle notifications (<c>…/api/graph/lifecycle</c>).</summary>
    public string? LifecycleNotificationUrl { get; set; }

    public EventGridDeliveryOptions EventGrid { get; set; } = new();

    private static readonly string[] DefaultResources = ["/users", "/groups"];

    /// <summary>What to subscribe to; empty means <c>/users</c> and <c>/groups</c>. (No default value here: the binder would append to it.)</summary>
    public string[]? Resources { get; set; }

    public IReadOnlyList<string> SubscribedResources => Resources is { Length: > 0 } ? Resources : DefaultResources;

    public string ChangeType { get; set; } = "updated,deleted";

    /// <summary>Subscriptions expiring sooner than this are renewed.</summary>
    [TimeSpanRange("00:05:00", "20.00:00:00")]
    public TimeSpan RenewalMargin { get; set; } = TimeSpan.FromDays(2);

    /// <summary>Lifetime asked for on create and renew; a little under Graph's 41,760-minute ceiling so clock skew cannot push it over.</summary>
    [Range(45, MaxExpirationMinutes)]
    public int ExpirationMinutes { get; set; } = 41_000;

    /// <summary>How often the local host runs the upkeep (Azure uses the timer function's schedule).</summary>
    [TimeSpanRange("00:01:00", "1.00:00:00")]
    public TimeSpan UpkeepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>From <c>Graph:ClientState</c>: the secret Graph echoes in every notification. Never logged.</summary>
    public string? ClientState { get; set; }

    public string EffectiveNotificationUrl => Delivery == SubscriptionDelivery.EventGrid ? EventGridUrl() : NotificationUrl ?? "";

    /// <summary>With Event Grid, lifecycle notifications travel the same partner topic.</summary>
    public string? EffectiveLifecycleNotificationUrl => Delivery == SubscriptionDelivery.EventGrid ? EventGridUrl() : LifecycleNotificationUrl;

    private string EventGridUrl() =>
        $"EventGrid:?azuresubscriptionid={Uri.EscapeDataString(EventGrid.AzureSubscriptionId ?? "")}" +
        $"&resourcegroup={Uri.EscapeDataString(EventGrid.ResourceGroup ?? "")}" +
        $"&partnertopic={Uri.EscapeDataString(EventGrid.PartnerTopic ?? "")}" +
        $"&location={Uri.EscapeDataString(EventGrid.Location ?? "")}";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(ClientState) || ClientState.Length > 128)
        {
            yield return new ValidationResult("Graph:ClientState is required (at most 128 characters).", [nameof(ClientState)]);
        }

        if (SubscribedResources.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult("Subscriptions:Resources must list at least one resource.", [nameof(Resources)]);
        }

        if (Delivery == SubscriptionDelivery.Webhook)
        {
            if (!IsWebhookUrl(NotificationUrl))
            {
                yield return new ValidationResult("Subscriptions:NotificationUrl must be an https URL (http only on loopback).", [nameof(NotificationUrl)]);
            }

            if (LifecycleNotificationUrl is not null && !IsWebhookUrl(LifecycleNotificationUrl))
            {
                yield return new ValidationResult("Subscriptions:LifecycleNotificationUrl must be an https URL (http only on loopback).", [nameof(LifecycleNotificationUrl)]);
            }
        }
        else if (new[] { EventGrid.AzureSubscriptionId, EventGrid.ResourceGroup, EventGrid.PartnerTopic, EventGrid.Location }.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult(
                "Subscriptions:EventGrid needs AzureSubscriptionId, ResourceGroup, PartnerTopic and Location when Delivery is EventGrid.", [nameof(EventGrid)]);
        }
    }

    private static bool IsWebhookUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));
}
