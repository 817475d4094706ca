using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Provisioning;

/// <summary>
/// Provisioning through the whole local host in sandbox mode: the Graph emulator notifies the host's intake over HTTP,
/// the SQLite queue carries the signal, the consumer provisions into the ServiceNow emulator.
/// </summary>
public sealed class ProvisioningEndToEndTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Waits for an outcome the host produces asynchronously; fails with <paramref name="what"/> if it never comes.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > Patience)
            {
                throw new TimeoutException($"Still waiting after {Patience.TotalSeconds:F0} s for: {what}");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>
    /// Waits for a count to reach <paramref name="target"/>, failing only when it stops growing for the whole patience:
    /// a machine busy with other work is slow, not broken.
    /// </summary>
    private static async Task EventuallyReachesAsync(Func<Task<int>> count, int target, string what)
    {
        var stalled = Stopwatch.StartNew();
        var last = -1;
        while (await count() is var now && now < target)
        {
            if (now > last)
            {
                last = now;
                stalled.Restart();
            }
            else if (stalled.Elapsed > Patience)
            {
                throw new TimeoutException($"Stuck at {now} for {Patience.TotalSeconds:F0} s waiting for: {what}");
            }

            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_user_disabled_in_the_Graph_emulator_is_deactivated_in_the_ServiceNow_emulator_through_the_notification_path()
    {
        await using var host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:Seed:Users"] = "10",
            ["Sandbox:Seed:Groups"] = "2",
        });
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        IReadOnlyList<IReadOnlyDictionary<string, string>> Users() => serviceNow.Query("sys_user", "u_entra_object_idISNOTEMPTY");

        // Out of the box: the seeded users arrive through the initial full sync, and the host subscribes to changes.
        await EventuallyAsync(() => Task.FromResult(Users().Count == 10), "the 10 seeded users in ServiceNow");
        await EventuallyAsync(() => Task.FromResult(graph.Subscriptions.Count > 0), "a Graph subscription for the host's intake");
        var target = Users().First(u => u["active"] == "true");
        var userId = target["u_entra_object_id"];

        await graph.DisableUserAsync(userId);

        // The handler writes ServiceNow first and its provisioning log entry after: the work is done when both are there.
        var log = host.Services.GetRequiredService<IProvisioningLog>();
        await EventuallyAsync(async () => serviceNow.Get("sys_user", target["sys_id"])?["active"] == "false"
            && (await log.GetBySubjectAsync(userId, 1)) is [{ Action: ProvisioningAction.Deactivated }], "the sys_user deactivated and logged");
        var record = serviceNow.Get("sys_user", target["sys_id"])!;
        Assert.Equal("true", record["locked_out"]);
        Assert.Equal(10, Users().Count);
        var history = await log.GetBySubjectAsync(userId, 10);
        Assert.Equal("account disabled in Entra ID", history[0].Reason);
    }

    [Fact]
    public async Task A_local_host_killed_mid_sync_finishes_the_sync_after_a_restart_without_duplicates()
    {
        const int users = 2000;
        var data = LocalHostHarness.NewDataPath();
        var settings = new Dictionary<string, string?>
        {
            ["Sandbox:Seed:Users"] = users.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Sandbox:Seed:Groups"] = "10",
            // The default visibility timeout (2 minutes) on purpose: the restarted host frees the dead one's messages at
            // once, and runs one handler per user at a time even when the machine is too busy to renew locks on time.
        };
        try
        {
            int killedAt;
            await using (var first = await LocalHostProcess.StartAsync(data, settings))
            {
                await EventuallyAsync(async () => (await CountAsync(first.Client)) >= 100, "the first users provisioned");
                await first.KillAsync();
            }

            // Read what the dead host left in the sandbox ServiceNow's database file.
            using (var leftBehind = new ServiceNowEmulatorStore(Path.Combine(data, "sandbox", "servicenow.db")))
            {
                killedAt = leftBehind.Query("sys_user", "u_entra_object_idISNOTEMPTY").Count;
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Assert.True(killedAt < users, $"the kill came after the sync had finished ({killedAt} users)");

            await using var second = await LocalHostProcess.StartAsync(data, settings);

            await EventuallyReachesAsync(() => CountAsync(second.Client), users, $"all {users} users after the restart");
            var ids = await ObjectIdsAsync(second.Client);
            Assert.Equal(users, ids.Count);
            Assert.Equal(users, ids.Distinct().Count());
        }
        finally
        {
            LocalHostHarness.TryDelete(data);
        }
    }

    private static HttpRequestMessage TableRequest(string query)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/sandbox/servicenow/api/now/table/sys_user?{query}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("admin:sandbox")));
        return request;
    }

    private static async Task<int> CountAsync(HttpClient client)
    {
        using var response = await client.SendAsync(TableRequest("sysparm_query=u_entra_object_idISNOTEMPTY&sysparm_fields=sys_id&sysparm_limit=1"));
        response.EnsureSuccessStatusCode();
        return int.Parse(response.Headers.GetValues("X-Total-Count").First(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<List<string>> ObjectIdsAsync(HttpClient client)
    {
        using var response = await client.SendAsync(TableRequest("sysparm_query=u_entra_object_idISNOTEMPTY&sysparm_fields=u_entra_object_id&sysparm_limit=100000"));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("result").EnumerateArray().Select(r => r.GetProperty("u_entra_object_id").GetString()!).ToList();
    }
}
