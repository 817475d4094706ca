using System.Text.RegularExpressions;
using EntraSnow.LocalHost.Tests.Support;

namespace EntraSnow.LocalHost.Tests.Hosting;

/// <summary>What a newcomer's terminal shows when the sandbox starts: the local host as its own process, its real console.</summary>
public sealed partial class SandboxConsoleTests
{
    private static Dictionary<string, string?> FirstRun(int users) => new()
    {
        ["Sandbox:Seed:Users"] = users.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Sandbox:Seed:Groups"] = "1",
    };

    [GeneratedRegex(@"users: (\d+) created")]
    private static partial Regex UsersCreated();

    private static int SummedUsersCreated(IEnumerable<string> lines) =>
        lines.Select(l => UsersCreated().Match(l)).Where(m => m.Success).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task Sandbox_start_prints_where_everything_is_then_a_summary_line_per_batch_instead_of_a_line_per_user()
    {
        var data = LocalHostHarness.NewDataPath();
        try
        {
            var settings = FirstRun(users: 6);
            var https = $"https://127.0.0.1:{LocalHostHarness.FreePort()}";
            settings["LocalHost:SandboxHttpsUrl"] = https;
            await using var host = await LocalHostProcess.StartAsync(data, settings);

            await Eventually.AssertAsync(() => SummedUsersCreated(host.Output) == 6, "summary lines adding up to the 6 seeded users created", TimeSpan.FromSeconds(90));
            var output = string.Join('\n', host.Output);
            Assert.Contains($"Status page          {host.BaseUrl}/", output, StringComparison.Ordinal);
            Assert.Contains($"Graph emulator       {host.BaseUrl}/sandbox/graph/v1.0", output, StringComparison.Ordinal);
            Assert.Contains($"ServiceNow emulator  {host.BaseUrl}/sandbox/servicenow/api/now/table/sys_user   basic auth: admin / sandbox", output, StringComparison.Ordinal);
            Assert.Contains($"Over HTTPS           {https}/… the same routes; trust its certificate: dotnet run --project src/EntraSnow.LocalHost -- sandbox cert", output, StringComparison.Ordinal);
            Assert.Contains("    1. open", output, StringComparison.Ordinal);
            Assert.Contains("    2. disable a user", output, StringComparison.Ordinal);
            Assert.Contains("    3. every decision with its reason", output, StringComparison.Ordinal);
            // Each summary names where every single decision is; no line per user reached the console.
            Assert.All(host.Output.Where(l => UsersCreated().IsMatch(l)), l => Assert.Contains($"(each one: `log`, or {host.BaseUrl}/)", l, StringComparison.Ordinal));
            Assert.DoesNotContain(host.Output, l => l.Contains("ProvisionUserHandler", StringComparison.Ordinal) && l.Contains("info:", StringComparison.Ordinal));
        }
        finally
        {
            LocalHostHarness.TryDelete(data);
        }
    }

    [Fact]
    public async Task A_line_per_user_comes_back_with_the_setting_and_a_configured_emulator_password_is_never_printed()
    {
        const string password = "console-test-sn-password-3f9c1d";
        var data = LocalHostHarness.NewDataPath();
        try
        {
            var settings = FirstRun(users: 3);
            settings["Sandbox:Console:LinePerUser"] = "true";
            settings["Sandbox:ServiceNow:Password"] = password;
            await using var host = await LocalHostProcess.StartAsync(data, settings);

            await Eventually.AssertAsync(() => host.Output.Count(l => l.Contains("ProvisionUserHandler", StringComparison.Ordinal) && l.Contains(": Created", StringComparison.Ordinal)) == 3,
                "a line for each of the 3 seeded users", TimeSpan.FromSeconds(90));
            var output = string.Join('\n', host.Output);
            Assert.Contains("basic auth: admin / (the one set in Sandbox:ServiceNow:Password)", output, StringComparison.Ordinal);
            Assert.DoesNotContain(password, output, StringComparison.Ordinal);
            Assert.DoesNotContain(host.Output, l => UsersCreated().IsMatch(l));
        }
        finally
        {
            LocalHostHarness.TryDelete(data);
        }
    }
}
