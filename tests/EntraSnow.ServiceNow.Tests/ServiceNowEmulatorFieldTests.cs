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
}
