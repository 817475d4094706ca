using System.Text.Json.Nodes;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace EntraSnow.LocalHost.Tests.StatusPage;

/// <summary>
/// The status page in a real headless Chromium, as an operator sees it: a change in the Graph emulator reaches the
/// host as a notification while ServiceNow is down, and the page shows the user's change waiting for its retry without
/// a reload; ServiceNow comes back, the user is dead-lettered for a department ServiceNow lacks and the page shows it;
/// the operator creates the department and presses Replay, and the page shows the user created. The page never holds a
/// configured secret. Screenshots are kept in the test output folder (artifacts/status-page*.png).
/// </summary>
public sealed class StatusPageBrowserTests(ITestOutputHelper output)
{
    private const string Department = "Quantum Archaeology";

    // Distinctive values, so finding one in the page can only mean the page leaked it.
    private const string ClientState = "browser-test-client-state-7c1e9a52d4";
    private const string WebhookSecret = "browser-test-webhook-signing-secret-5b8f3e17a9c2";
    private const string ServiceNowPassword = "browser-test-sn-password-e4d27a";

    public static string ArtifactsFolder => Path.Combine(AppContext.BaseDirectory, "artifacts");

    [Fact]
    public async Task The_page_shows_live_queue_counts_replays_a_dead_letter_with_its_button_and_holds_no_secret()
    {
        await using var host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Graph:ClientState"] = ClientState,
            ["ServiceNowWebhook:SigningSecret"] = WebhookSecret,
            ["Sandbox:ServiceNow:Password"] = ServiceNowPassword,
            ["LocalHost:RunTimers"] = "false",
            ["Sandbox:Seed:Users"] = "0",
            ["Sandbox:Seed:InitialSync"] = "false",
            ["Provisioning:Mappings:department:OnMissingReference"] = "Fail",
            // While ServiceNow is down a delivery fails at once and waits 3 s for its next try (never running out of
            // tries), so the page shows it scheduled for as long as the outage lasts.
            ["Messaging:InlineRetries"] = "0",
            ["ServiceNow:MaxRetryAttempts"] = "0",
            ["Messaging:FirstRescheduleDelay"] = "00:00:03",
            ["Messaging:MaxRescheduleDelay"] = "00:00:03",
            ["Messaging:MaxAttempts"] = "100",
        });
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        var serviceNowFaults = host.Services.GetRequiredService<ServiceNowFaults>();
        // The user exists before EntraSnow subscribes, so the one notification is the change below.
        var userId = await graph.CreateUserAsync("Ada Lovelace", "ada@contoso.example");
        await graph.ChangeUserAsync(userId, new JsonObject { ["department"] = Department });
        await host.Services.GetServices<IScheduledJob>().Single(j => j.Name == JobNames.SubscriptionUpkeep).RunAsync(CancellationToken.None);

        using var chromium = await HeadlessChromium.StartAsync(output.WriteLine);
        var browser = chromium.Driver;
        browser.Navigate().GoToUrl(host.BaseUrl + "/");
        HeadlessChromium.WaitUntil(browser, b => Counts(b, QueueNames.UserChanges) == "depth 0, in flight 0, scheduled 0, dead-lettered 0", "user-changes with nothing in it");
        HeadlessChromium.WaitUntil(browser, b => Connector(b, "graph") == "ok" && Connector(b, "serviceNow") == "ok", "both connectors ok");
        HeadlessChromium.WaitUntil(browser, b => b.FindElements(By.CssSelector("#subscriptions tbody tr")).Any(r => r.Text.Contains("/users", StringComparison.Ordinal)),
            "the /users subscription with its expiry");
        Assert.Contains("sandbox: Graph and ServiceNow emulated", browser.FindElement(By.Id("mode")).Text, StringComparison.Ordinal);

        // ServiceNow goes down, then a change in Entra ID: Graph notifies the host, and the user's change waits for its retry.
        serviceNowFaults.Outage = true;
        var deliveries = await graph.ChangeUserAsync(userId, new JsonObject { ["jobTitle"] = "Principal Archaeologist" });
        Assert.Contains(deliveries, d => d.StatusCode == 202);
        HeadlessChromium.WaitUntil(browser, b => Cell(b, QueueNames.UserChanges, "scheduled") == "1", "user-changes with the change scheduled for its retry, without a reload");
        Assert.Equal("0", Cell(browser, QueueNames.UserChanges, "deadLettered"));
        Screenshot(browser, "status-page-retry-scheduled.png");

        // ServiceNow is back: the retry finds no such department, and the user is dead-lettered.
        serviceNowFaults.Outage = false;
        HeadlessChromium.WaitUntil(browser, b => Counts(b, QueueNames.UserChanges) == "depth 0, in flight 0, scheduled 0, dead-lettered 1",
            "user-changes with one dead letter and nothing else, without a reload", seconds: 60);
        HeadlessChromium.WaitUntil(browser, b => b.FindElement(By.CssSelector("#deadletters tbody tr[data-deadletter]")).Text is var letter
            && letter.Contains(userId, StringComparison.Ordinal) && letter.Contains(Department, StringComparison.Ordinal), "the dead letter with the missing department");
        HeadlessChromium.WaitUntil(browser, b => Decision(b, userId, "failed") is not null, "the failed decision in the provisioning log");
        Screenshot(browser, "status-page-dead-letter.png");

        // The operator creates the department and presses Replay.
        serviceNow.Insert("cmn_department", new Dictionary<string, string> { ["name"] = Department });
        HeadlessChromium.WaitUntil(browser, b =>
        {
            b.FindElement(By.CssSelector("#deadletters tbody tr[data-deadletter] button[data-replay]")).Click();
            return true;
        }, "the Replay button pressed");

        HeadlessChromium.WaitUntil(browser, b => b.FindElement(By.Id("replay-result")).Text.Contains("is back on its queue", StringComparison.Ordinal), "the replay acknowledged");
        HeadlessChromium.WaitUntil(browser, b => Cell(b, QueueNames.UserChanges, "deadLettered") == "0", "no dead letter left");
        HeadlessChromium.WaitUntil(browser, b => Decision(b, userId, "created") is not null, "the user created after the replay");
        Assert.Equal("No dead letters.", browser.FindElement(By.CssSelector("#deadletters tbody")).Text);
        var user = Assert.Single(serviceNow.Query("sys_user", $"u_entra_object_id={userId}"));
        Assert.Equal(Assert.Single(serviceNow.Query("cmn_department", $"name={Department}"))["sys_id"], user["department"]);

        // The filters: this user's failed decisions only.
        browser.FindElement(By.Id("filter-user")).SendKeys(userId);
        browser.FindElement(By.XPath("//select[@id='filter-action']/option[.='failed']")).Click();
        HeadlessChromium.WaitUntil(browser, b => Rows(b).Count == 1 && Decision(b, userId, "failed") is not null, "only the user's failed decision");
        browser.FindElement(By.Id("filter-clear")).Click();
        HeadlessChromium.WaitUntil(browser, b => Decision(b, userId, "created") is not null, "every decision again");

        // No configured secret in the page, nor in anything it reads.
        var page = browser.PageSource;
        string[] secrets = [ClientState, WebhookSecret, ServiceNowPassword, "sandbox-secret"];
        Assert.All(secrets, secret => Assert.DoesNotContain(secret, page, StringComparison.Ordinal));
        foreach (var route in new[] { "/status-page/status.js", "/api/local/status", "/api/health", "/api/local/deadletters", "/api/local/decisions?limit=500", "/api/local/subscriptions" })
        {
            var answer = await host.Client.GetStringAsync(route);
            Assert.All(secrets, secret => Assert.DoesNotContain(secret, answer, StringComparison.Ordinal));
        }

        Assert.Contains("/sandbox/servicenow/api/now/table/sys_user", page, StringComparison.Ordinal);
        var shot = Screenshot(browser, "status-page.png");
        Assert.True(new FileInfo(shot).Length > 10_000, "the screenshot shows a page");
    }

    private static string? Cell(IWebDriver browser, string queue, string column) =>
        browser.FindElements(By.CssSelector($"#queues tr[data-queue='{queue}'] td[data-col='{column}']")).SingleOrDefault()?.Text;

    private static string Counts(IWebDriver browser, string queue) =>
        $"depth {Cell(browser, queue, "depth")}, in flight {Cell(browser, queue, "inFlight")}, scheduled {Cell(browser, queue, "scheduled")}, dead-lettered {Cell(browser, queue, "deadLettered")}";

    private static string? Connector(IWebDriver browser, string name) =>
        browser.FindElements(By.CssSelector($"#connectors tr[data-connector='{name}'] td:nth-child(2)")).SingleOrDefault()?.Text;

    private static System.Collections.ObjectModel.ReadOnlyCollection<IWebElement> Rows(IWebDriver browser) => browser.FindElements(By.CssSelector("#decisions tbody tr[data-action]"));

    private static IWebElement? Decision(IWebDriver browser, string subject, string action) =>
        Rows(browser).FirstOrDefault(r => r.GetDomAttribute("data-subject") == subject && r.GetDomAttribute("data-action") == action);

    private string Screenshot(OpenQA.Selenium.Chrome.ChromeDriver browser, string name)
    {
        Directory.CreateDirectory(ArtifactsFolder);
        var path = Path.Combine(ArtifactsFolder, name);
        browser.GetScreenshot().SaveAsFile(path);
        output.WriteLine($"Screenshot: {path}");
        return path;
    }
}
