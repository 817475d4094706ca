using System.Text.Json.Nodes;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary>
/// A user dead-lettered for a department ServiceNow lacks; the operator creates the department and runs
/// <c>deadletters replay</c> from another terminal. The serving host runs on a clock that never moves, so neither its idle
/// poll (30 s) nor the expiry of the remembered miss (1 min) can be what makes the replay work: only the CLI's call can.
/// </summary>
public sealed class DeadLetterReplayTests
{
    private const string Department = "Quantum Archaeology";

    [Fact]
    public async Task Replay_after_creating_the_missing_department_provisions_the_user_at_once_in_the_running_host()
    {
        // An hour ahead of the CLI's real clock, so the replayed message (due at the CLI's "now") is due for the host.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        await using var host = await LocalHostHarness.StartEmptyAsync(new Dictionary<string, string?>
        {
            ["Provisioning:Mappings:department:OnMissingReference"] = "Fail",
        }, clock);
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        var userId = await graph.CreateUserAsync("Ada Lovelace");
        await graph.ChangeUserAsync(userId, new JsonObject { ["department"] = Department });
        await host.Queues.SendAsync(QueueNames.UserChanges, [new ChangeMessage
        {
            MessageId = "replay-" + userId, SessionKey = userId, Kind = MessageKinds.UserUpdated, TenantId = "sandbox", SubjectId = userId,
            ChangedAt = clock.GetUtcNow(), CorrelationId = "replay-test",
        }]);
        await Eventually.AssertAsync(async () => (await host.Queues.ListDeadLettersAsync(QueueNames.UserChanges)).Count == 1, "the user dead-lettered");

        serviceNow.Insert("cmn_department", new Dictionary<string, string> { ["name"] = Department });
        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync(
            ["deadletters", "replay", $"--LocalHost:DataPath={host.DataPath}", $"--LocalHost:Url={host.BaseUrl}", "--Logging:LogLevel:Default=Warning"], output);

        Assert.Equal(0, exit);
        Assert.Contains($"The local host serving at {host.BaseUrl} is processing them now.", output.ToString(), StringComparison.Ordinal);
        IReadOnlyDictionary<string, string>? User() => serviceNow.Query("sys_user", $"u_entra_object_id={userId}").SingleOrDefault();
        await Eventually.AssertAsync(() => User() is not null, "the replayed user in ServiceNow", TimeSpan.FromSeconds(10));
        var department = Assert.Single(serviceNow.Query("cmn_department", $"name={Department}"));
        Assert.Equal(department["sys_id"], User()!["department"]);
        Assert.Empty(await host.Queues.ListDeadLettersAsync(QueueNames.UserChanges));
    }

    [Fact]
    public async Task Replay_says_when_no_local_host_answers()
    {
        var data = LocalHostHarness.NewDataPath();
        try
        {
            await using (var store = new EntraSnow.LocalHost.Queueing.SqliteQueueStore(Path.Combine(data, "queues.db"),
                Microsoft.Extensions.Options.Options.Create(new EntraSnow.LocalHost.Queueing.SqliteQueueOptions()), TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger<EntraSnow.LocalHost.Queueing.SqliteQueueStore>.Instance))
            {
                await store.SendAsync(QueueNames.UserChanges, [new ChangeMessage
                {
                    MessageId = "m1", SessionKey = "u1", Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = "u1",
                    ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "c",
                }]);
                await store.DeadLetterAsync((await store.ReceiveAsync(QueueNames.UserChanges))!, "PermanentFailure", "no department");
            }

            var url = $"http://127.0.0.1:{LocalHostHarness.FreePort()}";
            using var output = new StringWriter();
            var exit = await LocalHostCommandLine.RunAsync(
                ["deadletters", "replay", $"--LocalHost:DataPath={data}", $"--LocalHost:Url={url}", "--Logging:LogLevel:Default=Warning"], output);

            Assert.Equal(0, exit);
            Assert.Contains("Replayed 1 dead-lettered message(s).", output.ToString(), StringComparison.Ordinal);
            Assert.Contains($"No local host answers at {url}: they are processed when one starts", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            LocalHostHarness.TryDelete(data);
        }
    }
}
