using System.Text.Json.Nodes;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// One scenario's world outside the local host: the Graph and ServiceNow emulators on loopback in this process (so they
/// and their write counters outlive a killed local host), a seeded directory, and the scenario's folder.
/// </summary>
internal sealed class Stage : IAsyncDisposable
{
    private Stage(string folder, RunSecrets secrets, GraphEmulatorServer graph, ServiceNowEmulatorServer serviceNow, IReadOnlyList<string> userIds)
    {
        Folder = folder;
        Secrets = secrets;
        Graph = graph;
        ServiceNow = serviceNow;
        UserIds = userIds;
    }

    public string Folder { get; }

    public RunSecrets Secrets { get; }

    public GraphEmulatorServer Graph { get; }

    public ServiceNowEmulatorServer ServiceNow { get; }

    /// <summary>The seeded users, none of them in ServiceNow yet.</summary>
    public IReadOnlyList<string> UserIds { get; }

    /// <summary>
    /// Starts both emulators (on <paramref name="clock"/> when given) accepting only this run's secrets, seeds
    /// <paramref name="users"/> Graph users without managers (manager follow-ups are not what these scenarios measure)
    /// and ServiceNow's reference data.
    /// </summary>
    public static async Task<Stage> StartAsync(string folder, RunSecrets secrets, int users, TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        var graph = await GraphEmulatorServer.StartAsync(o => o.ClientSecret = secrets.GraphClientSecret, clock, cancellationToken: cancellationToken);
        var serviceNow = await ServiceNowEmulatorServer.StartAsync(o =>
        {
            o.DatabasePath = Path.Combine(folder, "servicenow-emulator.db");
            o.ClientSecret = secrets.ServiceNowClientSecret;
        }, timeProvider: clock, seed: true, cancellationToken: cancellationToken);
        var seeded = graph.Seed(new GraphSeedSpec { Users = users, Groups = 0, GroupsPerUser = 0, RiskDetections = 0 });
        foreach (var id in seeded.UserIds)
        {
            graph.Emulator.SetUserManager(id, null);
        }

        return new Stage(folder, secrets, graph, serviceNow, seeded.UserIds);
    }

    /// <summary>The local host's settings against these emulators: neither side in sandbox mode, every secret this run's.</summary>
    public Dictionary<string, string?> HostSettings(string baseUrl, string dataPath) => new()
    {
        ["LocalHost:Url"] = baseUrl,
        ["LocalHost:DataPath"] = dataPath,
        ["Graph:TenantId"] = Graph.Emulator.Options.TenantId,
        ["Graph:ClientId"] = Graph.Emulator.Options.ClientId,
        ["Graph:Credential"] = "Sandbox",
        ["Graph:ClientSecret"] = Secrets.GraphClientSecret,
        ["Graph:BaseUrl"] = Graph.BaseUrl,
        ["Graph:ClientState"] = Secrets.GraphClientState,
        ["Subscriptions:NotificationUrl"] = $"{baseUrl}/api/graph/notifications",
        ["Subscriptions:LifecycleNotificationUrl"] = $"{baseUrl}/api/graph/lifecycle",
        ["ServiceNow:InstanceUrl"] = ServiceNow.BaseUrl,
        ["ServiceNow:AuthMode"] = "OAuth",
        ["ServiceNow:ClientId"] = ServiceNow.Options.ClientId,
        ["ServiceNow:ClientSecret"] = Secrets.ServiceNowClientSecret,
        ["ServiceNowWebhook:SigningSecret"] = Secrets.WebhookSigningSecret,
    };

    /// <summary>Waits until the local host at <paramref name="baseUrl"/> has subscribed to user changes (it does at start).</summary>
    public Task<bool> WaitForSubscriptionAsync(string baseUrl, TimeSpan patience) =>
        Converge.UntilAsync(() => Task.FromResult(Graph.Emulator.Subscriptions.Any(s =>
            s["resource"]?.GetValue<string>() == "/users" && s["notificationUrl"]?.GetValue<string>() == $"{baseUrl}/api/graph/notifications")), patience);

    /// <summary>Changes a user's job title in Graph, which notifies the subscriber; true when the notification was acknowledged.</summary>
    public async Task<bool> ChangeTitleAsync(string userId, string title, CancellationToken cancellationToken = default)
    {
        var deliveries = await Graph.Emulator.ChangeUserAsync(userId, new JsonObject { ["jobTitle"] = title }, cancellationToken);
        return deliveries.All(d => d.StatusCode is >= 200 and < 300);
    }

    public async ValueTask DisposeAsync()
    {
        await Graph.DisposeAsync();
        await ServiceNow.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
