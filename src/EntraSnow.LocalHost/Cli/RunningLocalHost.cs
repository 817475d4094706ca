using System.Text.Json;
using EntraSnow.LocalHost.Queueing;

namespace EntraSnow.LocalHost.Cli;

/// <summary>Whether a local host already serves this configuration's URL, so a command uses it instead of starting a second one.</summary>
internal static class RunningLocalHost
{
    public static Task<bool> IsServingAsync(string url) =>
        AnswersAsync(client => client.GetAsync(new Uri(new Uri(url), "/api/health")));

    /// <summary>The route a serving local host answers with the full path of its data folder (loopback callers only).</summary>
    public const string DataFolderRoute = "/api/local/data-folder";

    /// <summary>The data folder of the local host serving at <paramref name="url"/>; null when none answers.</summary>
    public static async Task<string?> DataFolderAsync(string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var answer = JsonDocument.Parse(await client.GetStringAsync(new Uri(new Uri(url), DataFolderRoute)));
            return answer.RootElement.GetProperty("dataPath").GetString();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Tells a serving local host that dead letters were replayed (see <see cref="ReplayedDeadLetters"/>); false when none answered.</summary>
    public static Task<bool> NotifyDeadLettersReplayedAsync(string url) =>
        AnswersAsync(client => client.PostAsync(new Uri(new Uri(url), ReplayedDeadLetters.Route), content: null));

    /// <summary>Tells a serving local host that this process queued work for it (see <see cref="WorkQueuedElsewhere"/>); false when none answered.</summary>
    public static Task<bool> NotifyWorkQueuedAsync(string url) =>
        AnswersAsync(client => client.PostAsync(new Uri(new Uri(url), WorkQueuedElsewhere.Route), content: null));

    private static async Task<bool> AnswersAsync(Func<HttpClient, Task<HttpResponseMessage>> call)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await call(client);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }
}
