using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>
/// The emulator treats fields like a real instance: a field sys_user does not have is dropped on insert, and a query
/// term on it is ignored (or, with glide.invalid_query.returns_no_rows, matches nothing); sys_dictionary lists the fields.
/// </summary>
public sealed class ServiceNowEmulatorFieldTests
{
    private static HttpClient Client(ServiceNowEmulatorServer sn)
    {
        var client = new HttpClient { BaseAddress = new Uri(sn.BaseUrl + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:sandbox")));
        return client;
    }

    private static async Task<JsonArray> ListAsync(HttpClient client, string table, string query)
    {
        var body = await client.GetFromJsonAsync<JsonObject>($"api/now/table/{table}?sysparm_query={Uri.EscapeDataString(query)}");
        return body!["result"]!.AsArray();
    }

    [Fact]
    public async Task A_field_sys_user_does_not_have_is_dropped_on_insert_and_a_query_term_on_it_is_ignored()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "someone.else" });

        using var created = await client.PostAsJsonAsync("api/now/table/sys_user", new { user_name = "ada", u_shoe_size = "42", u_entra_object_id = "e-1" });
        created.EnsureSuccessStatusCode();
        var record = (await created.Content.ReadFromJsonAsync<JsonObject>())!["result"]!.AsObject();

        Assert.False(record.ContainsKey("u_shoe_size"));
        Assert.Equal("e-1", record["u_entra_object_id"]!.GetValue<string>());
        Assert.DoesNotContain("u_shoe_size", sn.Store.Get("sys_user", record["sys_id"]!.GetValue<string>())!.Keys);
        // Ignored, as a real instance does: every user matches.
        Assert.Equal(2, (await ListAsync(client, "sys_user", "u_shoe_size=42")).Count);
        Assert.Single(await ListAsync(client, "sys_user", "u_shoe_size=42^user_name=ada"));
    }

    [Fact]
    public async Task With_invalid_queries_returning_no_rows_a_term_on_an_unknown_field_matches_nothing()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(o => o.InvalidQueryReturnsNoRows = true);
        using var client = Client(sn);
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "ada" });

        Assert.Empty(await ListAsync(client, "sys_user", "u_shoe_size=42"));
        Assert.Single(await ListAsync(client, "sys_user", "user_name=ada"));
    }

    [Fact]
    public async Task Sys_dictionary_lists_the_object_id_field_and_an_instance_without_it_does_not()
    {
        await using var with = await ServiceNowEmulatorServer.StartAsync();
        await using var without = await ServiceNowEmulatorServer.StartAsync(o => o.CustomFields["sys_user"] = string.Empty);
        using var withClient = Client(with);
        using var withoutClient = Client(without);

        var row = Assert.Single(await ListAsync(withClient, "sys_dictionary", "name=sys_user^element=u_entra_object_id"));
        Assert.Equal("string", row!["internal_type"]!.GetValue<string>());
        Assert.Contains((await ListAsync(withClient, "sys_dictionary", "name=sys_user")).Select(r => r!["element"]!.GetValue<string>()), e => e == "user_name");
        Assert.Empty(await ListAsync(withoutClient, "sys_dictionary", "name=sys_user^element=u_entra_object_id"));
        Assert.NotEmpty(await ListAsync(withoutClient, "sys_dictionary", "name=sys_user"));
        Assert.Single(await ListAsync(withoutClient, "sys_dictionary", "name=sys_user_group^element=u_entra_object_id"));
    }

    [Theory]
    [InlineData("incident")]
    [InlineData("change_request")]
    [InlineData("sc_task")]
    [InlineData("sc_req_item")]
    [InlineData("sys_journal_field")]
    [InlineData("sysapproval_approver")]
    [InlineData("cmn_department")]
    [InlineData("cmn_location")]
    public async Task Every_table_the_product_writes_drops_a_field_it_does_not_have_and_ignores_a_query_term_on_it(string table)
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);
        var known = table switch
        {
            "sys_journal_field" => "element",
            "sysapproval_approver" => "source_table",
            "cmn_department" or "cmn_location" => "name",
            _ => "short_description",
        };

        using var created = await client.PostAsJsonAsync($"api/now/table/{table}", new Dictionary<string, string> { [known] = "kept", ["u_not_a_field"] = "dropped" });
        created.EnsureSuccessStatusCode();
        var record = (await created.Content.ReadFromJsonAsync<JsonObject>())!["result"]!.AsObject();

        Assert.Equal("kept", record[known]!.GetValue<string>());
        Assert.False(record.ContainsKey("u_not_a_field"));
        Assert.Single(await ListAsync(client, table, "u_not_a_field=dropped"));
    }

    [Fact]
    public async Task A_table_the_instance_does_not_have_answers_400_invalid_table_for_every_method()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);

        using var list = await client.GetAsync("api/now/table/u_no_such_table");
        using var create = await client.PostAsJsonAsync("api/now/table/u_no_such_table", new { name = "x" });
        using var get = await client.GetAsync("api/now/v1/table/u_no_such_table/0123456789abcdef0123456789abcdef");

        foreach (var response in new[] { list, create, get })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal("Invalid table u_no_such_table", error["error"]!["message"]!.GetValue<string>());
            Assert.Equal("failure", error["status"]!.GetValue<string>());
        }

        Assert.Equal(0, sn.Store.Count("u_no_such_table"));
    }

    [Fact]
    public async Task A_custom_table_named_in_the_settings_is_served_with_its_fields()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(o => o.CustomFields["u_access_review"] = "u_user,u_reason");
        using var client = Client(sn);

        using var created = await client.PostAsJsonAsync("api/now/table/u_access_review", new { u_user = "ada", u_other = "dropped" });
        created.EnsureSuccessStatusCode();

        var row = Assert.Single(await ListAsync(client, "u_access_review", "u_user=ada"));
        Assert.False(row!.AsObject().ContainsKey("u_other"));
        Assert.Contains((await ListAsync(client, "sys_dictionary", "name=u_access_review")).Select(r => r!["element"]!.GetValue<string>()), e => e == "u_reason");
    }

    [Fact]
    public async Task Name_value_pairs_in_the_query_string_filter_like_sysparm_query()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(seed: true);
        using var client = Client(sn);
        var retail = sn.Store.Query("cmn_department", "name=Retail").Single()["sys_id"];
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "ada", ["active"] = "true", ["department"] = retail });
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "grace", ["active"] = "false", ["department"] = retail });
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "alan", ["active"] = "true" });

        static async Task<string[]> Names(HttpClient client, string query) =>
            [.. (await client.GetFromJsonAsync<JsonObject>($"api/now/table/sys_user?{query}"))!["result"]!.AsArray().Select(r => r!["user_name"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

        Assert.Equal(new[] { "ada", "alan" }, await Names(client, "active=true"));
        Assert.Equal(new[] { "ada" }, await Names(client, "active=true&department=" + retail));
        // A reference matches the display value of the record it points at too.
        Assert.Equal(new[] { "ada", "grace" }, await Names(client, "department=Retail"));
        // sysparm_query wins: the name=value pairs are not added to it.
        Assert.Equal(new[] { "grace" }, await Names(client, "sysparm_query=user_name%3Dgrace&active=true"));
    }
}
