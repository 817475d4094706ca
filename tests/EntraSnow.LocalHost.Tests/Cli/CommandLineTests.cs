using System.Text.Json;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Tests.Cli;

public sealed class CommandLineTests : IDisposable
{
    private readonly string _dataPath = LocalHostHarness.NewDataPath();

    public void Dispose() => LocalHostHarness.TryDelete(_dataPath);

    private async Task<(int Exit, string Output)> Run(params string[] args)
    {
        using var output = new StringWriter();
        // A port nothing serves unless the test names one: a local host on the default port must not answer for the data.
        string[] url = args.Any(a => a.StartsWith("--LocalHost:Url=", StringComparison.Ordinal)) ? [] : [$"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}"];
        var exit = await LocalHostCommandLine.RunAsync([.. args, .. url, $"--LocalHost:DataPath={_dataPath}", "--Logging:LogLevel:Default=Warning"], output);
        return (exit, output.ToString());
    }

    private async Task Seed(Func<SqliteQueueStore, Task> seed)
    {
        await using var store = new SqliteQueueStore(Path.Combine(_dataPath, "queues.db"), Options.Create(new SqliteQueueOptions()), TimeProvider.System,
            NullLogger<SqliteQueueStore>.Instance);
        await seed(store);
    }

    private static ChangeMessage Message(string id) => new()
    {
        MessageId = id, SessionKey = id, Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = id, ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "c",
    };

    [Fact]
    public async Task Queues_json_prints_one_object_per_queue_in_the_documented_shape()
    {
        await Seed(s => s.SendAsync(QueueNames.GroupChanges, [Message("g1"), Message("g2")]));

        var (exit, output) = await Run("queues", "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(QueueNames.All, rows.Select(r => r.GetProperty("queue").GetString()));
        var groups = rows.Single(r => r.GetProperty("queue").GetString() == QueueNames.GroupChanges);
        Assert.Equal(2, groups.GetProperty("depth").GetInt32());
        Assert.Equal(0, groups.GetProperty("inFlight").GetInt32());
        Assert.Equal(0, groups.GetProperty("deadLettered").GetInt32());
    }

    [Fact]
    public async Task Queues_prints_a_readable_table()
    {
        await Seed(_ => Task.CompletedTask);

        var (exit, output) = await Run("queues");

        Assert.Equal(0, exit);
        Assert.Contains("user-changes", output, StringComparison.Ordinal);
        Assert.Contains("dead-lettered", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadletters_lists_the_reason_and_replay_puts_the_message_back()
    {
        await Seed(async s =>
        {
            await s.SendAsync(QueueNames.UserChanges, [Message("u1")]);
            var received = await s.ReceiveAsync(QueueNames.UserChanges);
            await s.DeadLetterAsync(received!, "PermanentFailure", "No cmn_department named 'Sales'");
        });

        var (listExit, list) = await Run("deadletters", "--json");
        var (replayExit, replay) = await Run("deadletters", "replay", "--queue", QueueNames.UserChanges);
        var (_, after) = await Run("queues", "--json");

        Assert.Equal(0, listExit);
        Assert.Contains("No cmn_department named 'Sales'", list, StringComparison.Ordinal);
        Assert.Equal(0, replayExit);
        Assert.Contains("Replayed 1", replay, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(after);
        var users = json.RootElement.EnumerateArray().Single(r => r.GetProperty("queue").GetString() == QueueNames.UserChanges);
        Assert.Equal(1, users.GetProperty("depth").GetInt32());
        Assert.Equal(0, users.GetProperty("deadLettered").GetInt32());
    }

    [Fact]
    public async Task Doctor_in_sandbox_mode_checks_everything_and_passes()
    {
        var (exit, output) = await Run("doctor", $"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}", "--Sandbox:Seed:InitialSync=false");

        Assert.Equal(0, exit);
        Assert.Contains("ok    Graph: read users", output, StringComparison.Ordinal);
        Assert.Contains("ok    ServiceNow: read sys_user", output, StringComparison.Ordinal);
        Assert.Contains("All checks passed.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_names_the_check_that_fails_when_ServiceNow_cannot_be_reached()
    {
        var (exit, output) = await Run("doctor", $"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}", "--Sandbox:Seed:InitialSync=false",
            $"--ServiceNow:InstanceUrl=http://127.0.0.1:{LocalHostHarness.FreePort()}", "--ServiceNow:AuthMode=Basic", "--ServiceNow:Username=someone",
            "--ServiceNow:Password=not-logged", "--ServiceNow:MaxRetryAttempts=1", "--ServiceNow:RetryBaseDelay=00:00:00.010");

        Assert.Equal(1, exit);
        Assert.Contains("FAIL  ServiceNow: read sys_user", output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-logged", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_exits_non_zero()
    {
        var (exit, _) = await Run("frobnicate");

        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task Invalid_configuration_is_reported_at_start_up_not_later()
    {
        var (exit, _) = await Run("queues", "--LocalHost:ConsumerConcurrency=0");

        Assert.Equal(3, exit);
    }
}
