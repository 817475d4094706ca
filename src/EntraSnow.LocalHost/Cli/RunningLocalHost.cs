using EntraSnow.LocalHost.Queueing;

namespace EntraSnow.LocalHost.Cli;

/// <summary>Whether a local host already serves this configuration's URL, so a command uses it instead of starting a second one.</summary>
internal static class RunningLocalHost
{
    public static Task<bool> IsServingAsync(string url) =>
        AnswersAsync(client => client.GetAsync(new Uri(new Uri(url), "/api/health")));

    /// <summary>Tells a serving local host that dead letters were replayed (see <see cref="ReplayedDeadLetters"/>); false when none answered.</summary>
    public static Task<bool> NotifyDeadLettersReplayedAsync(string url) =>
        AnswersAsync(client => client.PostAsync(new Uri(new Uri(url), ReplayedDeadLetters.Route), content: null));

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
