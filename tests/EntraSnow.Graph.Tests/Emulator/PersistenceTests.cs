using System.Net.Http.Json;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Emulator;

public sealed class PersistenceTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"graph-emulator-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task A_file_backed_emulator_keeps_its_directory_across_restarts()
    {
        IReadOnlyList<string> ids;
        await using (var first = await GraphEmulatorServer.StartAsync(o => o.DatabasePath = _path))
        {
            ids = first.Seed(new GraphSeedSpec { Users = 40, Groups = 2 }).UserIds;
            await first.Emulator.RenameUserAsync(ids[0], "Survivor");
        }

        await using var second = await GraphEmulatorServer.StartAsync(o => o.DatabasePath = _path);

        Assert.Equal(40, second.Emulator.UserCount);
        Assert.Equal("Survivor", second.Emulator.GetUser(ids[0])!["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tokens_issued_before_a_restart_are_still_accepted()
    {
        using var http = new HttpClient();
        string token;
        await using (var first = await GraphEmulatorServer.StartAsync(o => o.DatabasePath = _path))
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = "app", ["client_secret"] = "x" });
            using var issued = await http.PostAsync(new Uri(first.TokenUrl), form);
            token = (await issued.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["access_token"]!.GetValue<string>();
        }

        await using var second = await GraphEmulatorServer.StartAsync(o => o.DatabasePath = _path);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{second.BaseUrl}/users") { Headers = { { "Authorization", $"Bearer {token}" } } };
        using var response = await http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    public void Dispose()
    {
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
