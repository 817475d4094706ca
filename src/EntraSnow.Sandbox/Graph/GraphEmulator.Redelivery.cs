using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// Graph delivers change notifications at least once: a delivery the subscriber did not acknowledge (no answer, or not
/// 2xx) is retried later, and an acknowledged one may still arrive again, in any order. The emulator keeps both kinds so
/// a test can play Graph's retries when it chooses (<see cref="RetryUndeliveredAsync"/>) and its repeats
/// (<see cref="DeliverAgainAsync"/>).
/// </summary>
public sealed partial class GraphEmulator
{
    /// <summary>How many acknowledged change notifications are kept for <see cref="DeliverAgainAsync"/>.</summary>
    private const int RecentlyDeliveredKept = 10_000;

    private readonly ConcurrentQueue<SentNotification> _undelivered = new();
    private readonly ConcurrentQueue<SentNotification> _recentlyDelivered = new();

    /// <summary>Change notifications the subscriber has not acknowledged yet, waiting for Graph's retry.</summary>
    public int UndeliveredCount => _undelivered.Count;

    /// <summary>Sends every unacknowledged change notification again, oldest first; those refused again wait for the next retry.</summary>
    public async Task<IReadOnlyList<NotificationDelivery>> RetryUndeliveredAsync(CancellationToken cancellationToken = default)
    {
        var deliveries = new List<NotificationDelivery>();
        for (var waiting = _undelivered.Count; waiting > 0 && _undelivered.TryDequeue(out var sent); waiting--)
        {
            deliveries.Add(await SendAgainAsync(sent, cancellationToken));
        }

        return deliveries;
    }

    /// <summary>
    /// Sends the last <paramref name="count"/> acknowledged change notifications again, in an order shuffled with
    /// <paramref name="seed"/>: duplicates (same sequenceNumber) arriving out of order, as Graph may deliver them.
    /// </summary>
    public async Task<IReadOnlyList<NotificationDelivery>> DeliverAgainAsync(int count, int seed, CancellationToken cancellationToken = default)
    {
        var recent = _recentlyDelivered.ToArray();
        var chosen = recent[Math.Max(0, recent.Length - count)..];
        new Random(seed).Shuffle(chosen);
        var deliveries = new List<NotificationDelivery>();
        foreach (var sent in chosen)
        {
            deliveries.Add(await SendAgainAsync(sent, cancellationToken));
        }

        return deliveries;
    }

    private Task<NotificationDelivery> SendAgainAsync(SentNotification sent, CancellationToken cancellationToken) =>
        PostAsync(sent.SubscriptionId, sent.Url, "change", sent.Resource, sent.ChangeType, JsonNode.Parse(sent.Payload)!.AsObject(), cancellationToken);

    /// <summary>Called for every POST to a subscriber; change notifications are kept for a retry or a repeat.</summary>
    private void RememberForRedelivery(NotificationDelivery delivery, JsonObject payload)
    {
        if (delivery.Kind != "change")
        {
            return;
        }

        // Kept as text: a JsonObject is not safe to read from several threads at once.
        var sent = new SentNotification(delivery.SubscriptionId, delivery.Url, delivery.Resource, delivery.ChangeType, payload.ToJsonString());
        if (delivery.StatusCode is >= 200 and < 300)
        {
            _recentlyDelivered.Enqueue(sent);
            while (_recentlyDelivered.Count > RecentlyDeliveredKept && _recentlyDelivered.TryDequeue(out _))
            {
            }
        }
        else
        {
            _undelivered.Enqueue(sent);
        }
    }

    private sealed record SentNotification(string SubscriptionId, string Url, string Resource, string ChangeType, string Payload);
}
