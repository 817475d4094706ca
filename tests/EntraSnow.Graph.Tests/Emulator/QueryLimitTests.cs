using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Emulator;

/// <summary>
/// Graph's documented limits on reading users with <c>$expand</c>, <c>in</c>, <c>$count</c> and <c>$batch</c>, which the
/// emulator keeps so that a connector counting on more fails here rather than in a tenant.
/// </summary>
public sealed class QueryLimitTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string url, bool eventual)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url));
        if (eventual)
        {
            request.Headers.Add("ConsistencyLevel", "eventual");
        }

        return http.SendAsync(request);
    }

    private static async Task<JsonObject> GetAsync(HttpClient http, string url, bool eventual = false)
    {
        using var response = await SendAsync(http, url, eventual);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task<(HttpStatusCode Status, string? Code)> RefusalAsync(HttpClient http, string url, bool eventual = false)
    {
        using var response = await SendAsync(http, url, eventual);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (response.StatusCode, body?["error"]?["code"]?.GetValue<string>());
    }

    private static string InList(IEnumerable<string> values) => $"id in ({string.Join(',', values.Select(v => $"'{v}'"))})";

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

        var fifteen = await GetAsync(http, $"{graph.BaseUrl}/users?$filter={InList(ids.Skip(10).Take(15))}&$select=id");
        using var sixteen = await http.GetAsync(new Uri($"{graph.BaseUrl}/users?$filter={InList(ids.Take(16))}&$select=id"));

        Assert.Equal(ids.Skip(10).Take(15).Order(), fifteen["value"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).Order());
        Assert.Equal(HttpStatusCode.BadRequest, sixteen.StatusCode);
        var error = await sixteen.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("Request_UnsupportedQuery", error!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_in_list_longer_than_15_is_accepted_only_in_an_advanced_query_which_refuses_expand()
    {
        await using var graph = await GraphEmulatorServer.StartAsync(o => o.RequireAuthorization = false);
        var ids = graph.Seed(new GraphSeedSpec { Users = 40, Groups = 0, RiskDetections = 0, ReferenceTime = Now }).UserIds;
        using var http = new HttpClient();
        var url = $"{graph.BaseUrl}/users?$filter={InList(ids.Take(30))}&$select=id&$count=true";

        var advanced = await GetAsync(http, url, eventual: true);
        var withExpand = await RefusalAsync(http, url + "&$expand=manager", eventual: true);

        Assert.Equal(30, advanced["value"]!.AsArray().Count);
        Assert.Equal((HttpStatusCode.BadRequest, "Request_UnsupportedQuery"), withExpand);
    }

    [Fact]
    public async Task One_relationship_is_expanded_a_request_and_unknown_ones_are_refused()
    {
        await using var graph = await GraphEmulatorServer.StartAsync(o => o.RequireAuthorization = false);
        var ids = graph.Seed(new GraphSeedSpec { Users = 5, Groups = 2, RiskDetections = 0, ReferenceTime = Now }).UserIds;
        using var http = new HttpClient();

        var both = await RefusalAsync(http, $"{graph.BaseUrl}/users?$filter={InList(ids)}&$expand=manager($select=id,displayName),memberOf");
        var single = await RefusalAsync(http, $"{graph.BaseUrl}/users/{ids[0]}?$expand=memberOf,manager");
        var unknown = await RefusalAsync(http, $"{graph.BaseUrl}/users?$expand=photo");
        var one = await GetAsync(http, $"{graph.BaseUrl}/users?$filter={InList(ids)}&$select=id&$expand=manager($select=id,displayName)");

        Assert.Equal(HttpStatusCode.BadRequest, both.Status);
        Assert.Equal(HttpStatusCode.BadRequest, single.Status);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Equal(5, one["value"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_membership_count_needs_consistency_level_eventual_and_otherwise_is_left_out()
    {
        await using var graph = await GraphEmulatorServer.StartAsync(o => o.RequireAuthorization = false);
        var userId = await graph.Emulator.CreateUserAsync("Counted");
        for (var i = 0; i < 3; i++)
        {
            await graph.Emulator.AddGroupMemberAsync(await graph.Emulator.CreateGroupAsync($"Group {i}"), userId);
        }

        using var http = new HttpClient();
        var url = $"{graph.BaseUrl}/users/{userId}/memberOf?$count=true&$top=1&$select=id";

        var counted = await GetAsync(http, url, eventual: true);
        var uncounted = await GetAsync(http, url);
        var next = await GetAsync(http, counted["@odata.nextLink"]!.GetValue<string>(), eventual: true);

        Assert.Equal(3, counted["@odata.count"]!.GetValue<int>());
        Assert.Single(counted["value"]!.AsArray());
        Assert.Null(uncounted["@odata.count"]);
        Assert.Single(next["value"]!.AsArray());
    }

    [Fact]
    public async Task Inside_a_batch_each_request_carries_its_own_consistency_level_and_21_requests_are_refused()
    {
        await using var graph = await GraphEmulatorServer.StartAsync(o => o.RequireAuthorization = false);
        var userId = await graph.Emulator.CreateUserAsync("Counted");
        await graph.Emulator.AddGroupMemberAsync(await graph.Emulator.CreateGroupAsync("Group"), userId);
        using var http = new HttpClient();
        static JsonObject Step(string id, string url, bool eventual) => new()
        {
            ["id"] = id,
            ["method"] = "GET",
            ["url"] = url,
            ["headers"] = eventual ? new JsonObject { ["ConsistencyLevel"] = "eventual" } : new JsonObject(),
        };
        var url = $"/users/{userId}/memberOf?$count=true&$select=id";

        using var batch = await http.PostAsJsonAsync(new Uri($"{graph.BaseUrl}/$batch"),
            new JsonObject { ["requests"] = new JsonArray(Step("with", url, true), Step("without", url, false)) });
        using var tooMany = await http.PostAsJsonAsync(new Uri($"{graph.BaseUrl}/$batch"),
            new JsonObject { ["requests"] = new JsonArray([.. Enumerable.Range(0, 21).Select(i => (JsonNode)Step($"{i}", url, true))]) });

        var responses = (await batch.Content.ReadFromJsonAsync<JsonObject>())!["responses"]!.AsArray();
        Assert.Equal(1, responses.Single(r => r!["id"]!.GetValue<string>() == "with")!["body"]!["@odata.count"]!.GetValue<int>());
        Assert.Null(responses.Single(r => r!["id"]!.GetValue<string>() == "without")!["body"]!["@odata.count"]);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
    }
}
