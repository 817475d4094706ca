using System.Globalization;
using System.Text.Json;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// The doctor's account of the serving local host's paused connectors (a pause lives in that process: the doctor asks
/// its <c>/api/health</c>): which connector, why, since when, whose work waits, and what to do about it.
/// </summary>
internal static class PausedConnectorsDoctor
{
    /// <summary>One line per paused connector; none when nothing is paused or no host answers at <paramref name="url"/>.</summary>
    public static async Task<IReadOnlyList<string>> ExplainAsync(string url, DateTimeOffset now)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        JsonDocument health;
        try
        {
            health = JsonDocument.Parse(await client.GetStringAsync(new Uri(new Uri(url), "/api/health")));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return [];
        }

        using (health)
        {
            if (!health.RootElement.TryGetProperty("paused", out var paused))
            {
                return [];
            }

            return [.. paused.EnumerateArray().Select(p => Explain(p, now))];
        }
    }

    private static string Explain(JsonElement pause, DateTimeOffset now)
    {
        var connector = pause.GetProperty("connector").GetString() ?? "?";
        var since = pause.GetProperty("since").GetDateTimeOffset();
        var queues = pause.TryGetProperty("queues", out var q) ? string.Join(", ", q.EnumerateArray().Select(e => e.GetString())) : "its queues";
        var nextProbe = pause.TryGetProperty("nextProbe", out var n) ? $" (next at {n.GetDateTimeOffset().UtcDateTime:HH:mm:ss} UTC)" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name(connector)} is paused in the serving local host since {since.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC ({Ago(now - since)}): {pause.GetProperty("reason").GetString()}. " +
            $"The work of {queues} waits (nothing is dead-lettered meanwhile); one message tries {Name(connector)} again every Messaging:PausedRetryDelay{nextProbe} and the work resumes by itself once it answers. " +
            $"To do: {WhatToDo(connector)}");
    }

    private static string Name(string connector) => connector switch
    {
        "serviceNow" => "ServiceNow",
        "graph" => "Graph",
        _ => connector,
    };

    private static string WhatToDo(string connector) => connector switch
    {
        "serviceNow" => "check the integration account's credentials, ServiceNow:ClientId and ServiceNow:ClientSecret (OAuth) or ServiceNow:Username and ServiceNow:Password (Basic); " +
            "in Azure the Key Vault secret servicenow-client-secret or servicenow-password, then `azd provision`; unlock the account in ServiceNow if it was locked out.",
        "graph" => "check Graph:ClientId with Graph:ClientSecret or the certificate (Graph:Credential), that the secret has not expired in the app registration, " +
            "and that admin consent is still granted (in Azure: the managed identity, `azd hooks run postprovision`).",
        _ => "check its credentials.",
    };

    private static string Ago(TimeSpan elapsed) => elapsed switch
    {
        { TotalMinutes: < 1 } => "under a minute ago",
        { TotalHours: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)elapsed.TotalMinutes} min ago"),
        { TotalDays: < 2 } => string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalHours:0.#} h ago"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)elapsed.TotalDays} days ago"),
    };
}
