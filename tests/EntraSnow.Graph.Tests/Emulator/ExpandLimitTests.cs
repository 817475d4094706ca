using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Emulator;

/// <summary>
/// Graph's documented limits on listing users with <c>$expand</c> and <c>in</c>, which the emulator keeps so that a
/// connector counting on more fails here rather than in a tenant.
/// </summary>
public sealed class ExpandLimitTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    private static async Task<JsonObject> GetAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(new Uri(url));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task A_user_list_with_expand_answers_100_a_page_even_when_500_are_asked_for_with_sign_in_activity()
    {
        await using var graph = await GraphEmulatorServer.StartAsync(o => o.RequireAuthorization = false);
        graph.Seed(new GraphSeedSpec { Users = 250, Groups = 0, RiskDetections = 0, ReferenceTime = Now });
        using var http = new HttpClient();

        var first = await GetAsync(http, $"{graph.BaseUrl}/users?$select=id,signInActivity&$top=500&$expand=manager($select=id,displayName)");
        var second = await GetAsync(http, first["@odata.nextLink"]!.GetValue<string>());
        var without = await GetAsync(http, $"{graph.BaseUrl}/users?$select=id,signInActivity&$top=500");

        Assert.Equal(100, first["value"]!.AsArray().Count);
        Assert.Equal(100, second["value"]!.AsArray().Count);
        Assert.Contains(first["value"]!.AsArray(), u => u!["manager"]?["displayName"] is not null);
        Assert.Equal(250, without["value"]!.AsArray().Count);
    }

    [Fact]
    public async Task An_expanded_memberOf_stops_at_20_groups_without_a_next_link()
    {
        await using var graph = await GraphEmulatorServer.StartAsync(o => o.RequireAuthorization = false);
        var userId = await graph.Emulator.CreateUserAsync("Many Groups");
        for (var i = 0; i < 25; i++)
        {
            await graph.Emulator.AddGroupMemberAsync(await graph.Emulator.CreateGroupAsync($"Group {i}"), userId);
        }

        using var http = new HttpClient();

        var page = await GetAsync(http, $"{graph.BaseUrl}/users?$filter=id in ('{userId}')&$select=id&$expand=memberOf($select=id)");
        var direct = await GetAsync(http, $"{graph.BaseUrl}/users/{userId}/memberOf?$select=id&$top=999");

        var user = Assert.Single(page["value"]!.AsArray())!.AsObject();
        Assert.Equal(20, user["memberOf"]!.AsArray().Count);
        Assert.DoesNotContain(user, p => p.Key.Contains("nextLink", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(25, direct["value"]!.AsArray().Count);
    }

    [Fact]
    public async Task An_in_list_answers_the_named_users_and_more_than_15_values_are_refused()
    {
        await using var graph = await GraphEmulatorServer.StartAsync(o => o.RequireAuthorization = false);
        var ids = graph.Seed(new GraphSeedSpec { Users = 40, Groups = 0, RiskDetections = 0, ReferenceTime = Now }).UserIds;
        using var http = new HttpClient();
        static string InList(IEnumerable<string> values) => $"id in ({string.Join(',', values.Select(v => $"'{v}'"))})";

        var fifteen = await GetAsync(http, $"{graph.BaseUrl}/users?$filter={InList(ids.Skip(10).Take(15))}&$select=id");
        using var sixteen = await http.GetAsync(new Uri($"{graph.BaseUrl}/users?$filter={InList(ids.Take(16))}&$select=id"));

        Assert.Equal(ids.Skip(10).Take(15).Order(), fifteen["value"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).Order());
        Assert.Equal(HttpStatusCode.BadRequest, sixteen.StatusCode);
        var error = await sixteen.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("Request_UnsupportedQuery", error!["error"]!["code"]!.GetValue<string>());
    }
}
