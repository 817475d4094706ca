namespace EntraSnow.LocalHost.Cli;

/// <summary>Whether a local host already serves this configuration's URL, so a command uses it instead of starting a second one.</summary>
internal static class RunningLocalHost
{
    public static async Task<bool> IsServingAsync(string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await client.GetAsync(new Uri(new Uri(url), "/api/health"));
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
