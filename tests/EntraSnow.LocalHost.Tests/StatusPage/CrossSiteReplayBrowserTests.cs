using System.Collections.Concurrent;
using System.Text.Json;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.StatusPage;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace EntraSnow.LocalHost.Tests.StatusPage;

/// <summary>
/// Another site open in the operator's Chromium tries to press Replay for them: a form posted to the replay route, a
/// fetch without the page's header, and a fetch with it. The browser sends the first two and the host refuses both
/// (403); the third never leaves the browser (its CORS preflight is not granted). The dead letter stays, and the
/// status page's own button still replays it.
/// </summary>
public sealed class CrossSiteReplayBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Another_site_open_in_the_browser_cannot_replay_a_dead_letter_and_the_page_still_can()
    {
        var replayRequests = new ReplayRequestLog();
        await using var host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("cross-site-test-client-state"),
            configure: builder => builder.Services.AddSingleton<IStartupFilter>(replayRequests));
        var id = await PoisonMessage.DeadLetterAsync(host.Queues, "u-poison");
        var replay = $"{host.BaseUrl}/api/local/deadletters/{id}/replay";

        // The other site: served on another port and named localhost, so it is another origin and another site than
        // the host's 127.0.0.1.
        var siteBuilder = WebApplication.CreateSlimBuilder();
        siteBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        siteBuilder.Logging.ClearProviders();
        await using var site = siteBuilder.Build();
        site.MapGet("/", () => Results.Content(HostilePage(replay), "text/html"));
        await site.StartAsync();
        var siteUrl = $"http://localhost:{new Uri(site.Urls.Single()).Port}/";

        using var chromium = await HeadlessChromium.StartAsync(output.WriteLine);
        var browser = chromium.Driver;
        browser.Navigate().GoToUrl(siteUrl);
        HeadlessChromium.WaitUntil(browser, b => b.FindElement(By.Id("results")).Text.Length > 0, "the other site's three attempts made");
        var attempts = JsonDocument.Parse(browser.FindElement(By.Id("results")).Text).RootElement;
        Assert.Equal("blocked by the browser", attempts.GetProperty("fetchWithHeader").GetString());
        Assert.Equal("sent", attempts.GetProperty("fetchWithoutHeader").GetString());
        await Eventually.AssertAsync(() => replayRequests.Posts.Any(r => r.Mode == "navigate"), "the form's post reaching the host", TimeSpan.FromSeconds(30));

        output.WriteLine(string.Join('\n', replayRequests.All));
        var posts = replayRequests.Posts.ToList();
        Assert.Equal(new[] { "navigate", "no-cors" }, posts.Select(r => r.Mode).Order());
        Assert.All(posts, r => Assert.Equal((StatusCodes.Status403Forbidden, siteUrl.TrimEnd('/'), false), (r.Status, r.Origin, r.ActionHeader)));
        Assert.DoesNotContain(replayRequests.All, r => r.Status is >= 200 and < 300);
        Assert.Equal(id, Assert.Single(await host.Queues.ListDeadLettersAsync(QueueNames.UserChanges)).Sequence);

        // The operator's own page, in the same browser, replays it.
        browser.Navigate().GoToUrl(host.BaseUrl + "/");
        HeadlessChromium.WaitUntil(browser, b =>
        {
            b.FindElement(By.CssSelector($"#deadletters tbody tr[data-deadletter='{id}'] button[data-replay]")).Click();
            return true;
        }, "the Replay button pressed");
        HeadlessChromium.WaitUntil(browser, b => b.FindElement(By.Id("replay-result")).Text.Contains("is back on its queue", StringComparison.Ordinal), "the replay acknowledged");
        Assert.Empty(await host.Queues.ListDeadLettersAsync(QueueNames.UserChanges));
        Assert.Contains(replayRequests.Posts, r => r.Status == StatusCodes.Status200OK && r.ActionHeader);
    }

    /// <summary>What a hostile page would try. The form is posted into a frame so the page stays to report.</summary>
    private static string HostilePage(string replay) => $$"""
        <!doctype html>
        <meta charset="utf-8">
        <title>another site</title>
        <form id="form" method="post" action="{{replay}}" target="sink"><input type="hidden" name="replay" value="1"></form>
        <iframe name="sink"></iframe>
        <pre id="results"></pre>
        <script>
        (async () => {
          const target = document.getElementById("form").action;
          const results = {};
          try {
            await fetch(target, { method: "POST", headers: { "X-EntraSnow-Action": "replay" } });
            results.fetchWithHeader = "answered";
          } catch {
            results.fetchWithHeader = "blocked by the browser";
          }
          try {
            await fetch(target, { method: "POST", mode: "no-cors", body: "replay=1", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
            results.fetchWithoutHeader = "sent";
          } catch {
            results.fetchWithoutHeader = "failed";
          }
          document.getElementById("form").submit();
          document.getElementById("results").textContent = JSON.stringify(results);
        })();
        </script>
        """;

    private sealed record ReplayRequest(string Method, string Mode, string Origin, bool ActionHeader, int Status);

    /// <summary>Every request the host received on a replay route, with its answer: the host's own view of the attempts.</summary>
    private sealed class ReplayRequestLog : IStartupFilter
    {
        private readonly ConcurrentQueue<ReplayRequest> _requests = new();

        public IEnumerable<ReplayRequest> All => _requests;

        public IEnumerable<ReplayRequest> Posts => _requests.Where(r => r.Method == HttpMethods.Post);

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                await nextMiddleware(context);
                if (context.Request.Path.Value?.EndsWith("/replay", StringComparison.Ordinal) == true)
                {
                    var headers = context.Request.Headers;
                    _requests.Enqueue(new ReplayRequest(context.Request.Method, headers["Sec-Fetch-Mode"].ToString(), headers.Origin.ToString(),
                        headers.ContainsKey(SameOriginAction.HeaderName), context.Response.StatusCode));
                }
            });
            next(app);
        };
    }
}
