using System.Text.Json;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Tests.Support;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary>
/// queues, deadletters and log read the running host's data, or the data folder, and otherwise say where they looked
/// instead of making up an empty store.
/// </summary>
public sealed class CommandDataFolderTests : IDisposable
{
    private readonly string _emptyFolder = LocalHostHarness.NewDataPath();

    public void Dispose() => LocalHostHarness.TryDelete(_emptyFolder);

    private static async Task<(int Exit, string Output)> Run(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync([.. args, "--Logging:LogLevel:Default=Warning"], output);
        return (exit, output.ToString());
    }

    [Theory]
    [InlineData("queues")]
    [InlineData("deadletters")]
    [InlineData("log")]
    public async Task Run_from_a_folder_with_no_data_and_no_host_the_command_says_where_it_looked_and_creates_nothing(string command)
    {
        var url = $"http://127.0.0.1:{LocalHostHarness.FreePort()}";

        var (exit, output) = await Run(command, $"--LocalHost:DataPath={_emptyFolder}", $"--LocalHost:Url={url}");

        Assert.Equal(CommandDataFolder.NoData, exit);
        Assert.Contains($"No local host answers at {url}, and there is no EntraSnow data at {Path.GetFullPath(_emptyFolder)}", output, StringComparison.Ordinal);
        Assert.Contains("--data-path PATH", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_emptyFolder));
    }

    [Fact]
    public async Task A_data_path_with_no_data_is_refused_naming_the_folder()
    {
        var (exit, output) = await Run("queues", "--data-path", _emptyFolder, $"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}");

        Assert.Equal(CommandDataFolder.NoData, exit);
        Assert.Contains($"There is no EntraSnow data at {Path.GetFullPath(_emptyFolder)} (queues.db not found)", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_emptyFolder));
    }

    [Fact]
    public async Task Run_from_another_folder_queues_and_deadletters_show_what_the_serving_host_holds()
    {
        await using var host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("data-folder-client-state-0123456789"));
        await host.Queues.SendAsync(QueueNames.GroupChanges,
        [
            new ChangeMessage { MessageId = "g1", SessionKey = "g1", Kind = MessageKinds.GroupUpdated, TenantId = "t", SubjectId = "g1", ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "c" },
        ]);

        var (exit, output) = await Run("queues", "--json", $"--LocalHost:DataPath={_emptyFolder}", $"--LocalHost:Url={host.BaseUrl}");
        var (textExit, text) = await Run("deadletters", $"--LocalHost:DataPath={_emptyFolder}", $"--LocalHost:Url={host.BaseUrl}");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(1, json.RootElement.EnumerateArray().Single(r => r.GetProperty("queue").GetString() == QueueNames.GroupChanges).GetProperty("depth").GetInt32());
        Assert.Equal(0, textExit);
        Assert.Contains($"The local host serving at {host.BaseUrl} keeps its data in {Path.GetFullPath(host.DataPath)}.", text, StringComparison.Ordinal);
        Assert.Contains("No dead-lettered messages.", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_emptyFolder));
    }

    [Fact]
    public async Task A_data_path_with_data_is_read_without_asking_any_host()
    {
        string folder;
        await using (var host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("data-folder-client-state-9876543210"), dataPath: _emptyFolder))
        {
            folder = host.DataPath;
            await host.Queues.SendAsync(QueueNames.UserChanges,
            [
                new ChangeMessage { MessageId = "u1", SessionKey = "u1", Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = "u1", ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "c" },
            ]);
        }

        var (exit, output) = await Run("queues", "--json", "--data-path", folder, $"--LocalHost:Url=http://127.0.0.1:{LocalHostHarness.FreePort()}");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(1, json.RootElement.EnumerateArray().Single(r => r.GetProperty("queue").GetString() == QueueNames.UserChanges).GetProperty("depth").GetInt32());
    }
}
