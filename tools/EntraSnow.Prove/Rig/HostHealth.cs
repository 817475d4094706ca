using System.Net.Http.Json;
using System.Text.Json;

namespace EntraSnow.Prove.Rig;

/// <summary>What the local host's <c>GET /api/health</c> says: its queues and the connectors it has paused.</summary>
internal sealed record HostHealth(string Status, IReadOnlyList<HostHealth.QueueFigures> Queues, IReadOnlyList<string> Paused)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Messages waiting, in flight or scheduled for later, on every queue.</summary>
    public long Outstanding => Queues.Sum(q => q.Depth + q.InFlight + q.Scheduled);

    public long DeadLettered => Queues.Sum(q => q.DeadLettered);

    /// <summary>Null when the host does not answer.</summary>
    public static async Task<HostHealth?> ReadAsync(HttpClient client, CancellationToken cancellationToken = default)
    {
        try
        {
            var body = await client.GetFromJsonAsync<Body>("/api/health", Json, cancellationToken);
            return body is null ? null : new HostHealth(body.Status, body.Queues, [.. body.Paused.Select(p => $"{p.Connector}: {p.Reason}")]);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    internal sealed record QueueFigures(string Queue, long Depth, long InFlight, long DeadLettered, long Scheduled);

    private sealed record PausedConnector(string Connector, string Reason);

    private sealed record Body(string Status, List<QueueFigures> Queues, List<PausedConnector> Paused);
}
