using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>Pins the emulator's answers to the documented shapes (our fixtures in tests/Fixtures/servicenow).</summary>
public sealed class ServiceNowEmulatorContractTests
{
    private static readonly string Samples = Path.Combine(AppContext.BaseDirectory, "Fixtures", "servicenow");

    private static JsonNode Sample(string name) => JsonNode.Parse(File.ReadAllText(Path.Combine(Samples, name)))!;

    private static HttpClient Client(ServiceNowEmulatorServer sn, bool authenticated = true)
    {
        var client = new HttpClient { BaseAddress = new Uri(sn.BaseUrl + "/") };
        if (authenticated)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:sandbox")));
        }

        return client;
    }

    private static async Task<JsonNode> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    private static string Kind(JsonNode? node) => node switch
    {
        JsonObject o => "object:" + string.Join(',', o.Select(p => p.Key).Order(StringComparer.Ordinal)),
        JsonValue v => v.GetValueKind().ToString(),
        _ => "null",
    };

    private static async Task<(ServiceNowEmulatorServer Sn, string UserId, string Department)> UserLikeTheSample()
    {
        var sn = await ServiceNowEmulatorServer.StartAsync(seed: true);
        var retail = sn.Store.Query("cmn_department", "name=Retail").Single()["sys_id"];
        var redmond = sn.Store.Query("cmn_location", "name=Redmond").Single()["sys_id"];
        var user = sn.Store.Insert("sys_user", new Dictionary<string, string>
        {
            ["user_name"] = "adele.vance@contoso.example",
            ["first_name"] = "Adele",
            ["last_name"] = "Vance",
            ["email"] = "adele.vance@contoso.example",
            ["department"] = retail,
            ["location"] = redmond,
            ["source"] = "entra:8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f",
        });
        return (sn, user["sys_id"], retail);
    }

    [Fact]
    public async Task A_user_is_answered_with_the_fields_and_reference_shapes_of_the_sample()
    {
        var (sn, id, retail) = await UserLikeTheSample();
        await using var _ = sn;
        using var client = Client(sn);

        using var response = await client.GetAsync($"api/now/table/sys_user/{id}");
        var result = (await Json(response))["result"]!.AsObject();
        var sample = Sample("sys_user-get.json")["result"]!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json;charset=UTF-8", response.Content.Headers.ContentType!.ToString().Replace(" ", string.Empty, StringComparison.Ordinal), ignoreCase: true);
        Assert.Equal(sample.Select(p => p.Key).Order(StringComparer.Ordinal), result.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.All(sample, p => Assert.Equal(Kind(p.Value), Kind(result[p.Key])));
        Assert.Equal(retail, result["department"]!["value"]!.GetValue<string>());
        Assert.Equal($"{sn.BaseUrl}/api/now/table/cmn_department/{retail}", result["department"]!["link"]!.GetValue<string>());
        Assert.Equal("Adele Vance", result["name"]!.GetValue<string>());
        Assert.Equal("", result["manager"]!.GetValue<string>());
    }

    [Fact]
    public async Task Display_value_all_answers_value_and_display_value_pairs_like_the_sample()
    {
        var (sn, id, _) = await UserLikeTheSample();
        await using var __ = sn;
        using var client = Client(sn);

        var result = (await Json(await client.GetAsync($"api/now/table/sys_user/{id}?sysparm_display_value=all&sysparm_fields=sys_id,user_name,active,department,manager")))["result"]!.AsObject();
        var sample = Sample("sys_user-get-display-all.json")["result"]!.AsObject();

        Assert.Equal(sample.Select(p => p.Key), result.Select(p => p.Key));
        Assert.All(sample, p => Assert.Equal(Kind(p.Value), Kind(result[p.Key])));
        Assert.Equal("Retail", result["department"]!["display_value"]!.GetValue<string>());
    }

    [Fact]
    public async Task Display_value_true_answers_display_strings_and_references_with_links()
    {
        var (sn, id, retail) = await UserLikeTheSample();
        await using var _ = sn;
        using var client = Client(sn);

        var linked = (await Json(await client.GetAsync($"api/now/table/sys_user/{id}?sysparm_display_value=true&sysparm_fields=department")))["result"]!;
        var bare = (await Json(await client.GetAsync($"api/now/table/sys_user/{id}?sysparm_display_value=true&sysparm_exclude_reference_link=true&sysparm_fields=department")))["result"]!;
        var ids = (await Json(await client.GetAsync($"api/now/table/sys_user/{id}?sysparm_exclude_reference_link=true&sysparm_fields=department")))["result"]!;

        Assert.Equal("object:display_value,link", Kind(linked["department"]));
        Assert.Equal("Retail", bare["department"]!.GetValue<string>());
        Assert.Equal(retail, ids["department"]!.GetValue<string>());
    }

    [Fact]
    public async Task Creating_an_incident_answers_201_with_location_number_and_priority_like_the_sample()
    {
        var (sn, userId, _) = await UserLikeTheSample();
        await using var _ = sn;
        using var client = Client(sn);
        var group = sn.Store.Query("sys_user_group", "name=Security Operations").Single()["sys_id"];

        using var response = await client.PostAsJsonAsync("api/now/table/incident", new Dictionary<string, string>
        {
            ["short_description"] = "Entra ID risk detection",
            ["impact"] = "1",
            ["urgency"] = "1",
            ["priority"] = "5",
            ["category"] = "security",
            ["caller_id"] = userId,
            ["assignment_group"] = group,
            ["correlation_id"] = "entra-risk:1",
            ["correlation_display"] = "EntraSnow",
        });
        var result = (await Json(response))["result"]!.AsObject();
        var sample = Sample("incident-created.json")["result"]!.AsObject();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"{sn.BaseUrl}/api/now/table/incident/{result["sys_id"]}", response.Headers.Location!.ToString());
        Assert.All(sample, p => Assert.Equal(Kind(p.Value), Kind(result[p.Key])));
        Assert.Matches("^INC[0-9]{7}$", result["number"]!.GetValue<string>());
        Assert.Equal("1", result["priority"]!.GetValue<string>());
        Assert.Matches("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$", result["sys_created_on"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("1", "1", "1")]
    [InlineData("1", "2", "2")]
    [InlineData("2", "1", "2")]
    [InlineData("1", "3", "3")]
    [InlineData("2", "2", "3")]
    [InlineData("2", "3", "4")]
    [InlineData("3", "2", "4")]
    [InlineData("3", "3", "5")]
    public async Task Incident_priority_follows_impact_and_urgency(string impact, string urgency, string priority)
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);

        var created = await Json(await client.PostAsJsonAsync("api/now/table/incident", new { impact, urgency, short_description = "x" }));

        Assert.Equal(priority, created["result"]!["priority"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("change_request", "CHG", "-5")]
    [InlineData("sc_req_item", "RITM", "1")]
    [InlineData("sc_task", "SCTASK", "1")]
    public async Task Task_tables_number_their_records_and_start_in_their_first_state(string table, string prefix, string state)
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);

        var first = (await Json(await client.PostAsJsonAsync($"api/now/table/{table}", new { short_description = "one" })))["result"]!;
        var second = (await Json(await client.PostAsJsonAsync($"api/now/v2/table/{table}", new { short_description = "two" })))["result"]!;

        Assert.Equal(prefix + "0010001", first["number"]!.GetValue<string>());
        Assert.Equal(prefix + "0010002", second["number"]!.GetValue<string>());
        Assert.Equal(state, first["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_missing_record_answers_404_with_the_documented_error()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);

        using var response = await client.GetAsync("api/now/table/sys_user/0123456789abcdef0123456789abcdef");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(JsonNode.DeepEquals(Sample("error-not-found.json"), await Json(response)));
    }

    [Fact]
    public async Task No_credentials_answer_401_with_the_documented_error()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn, authenticated: false);

        using var response = await client.GetAsync("api/now/table/sys_user");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(JsonNode.DeepEquals(Sample("error-unauthorized.json"), await Json(response)));
    }

    [Fact]
    public async Task Rate_limiting_answers_429_with_retry_after_and_rate_limit_headers()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);
        sn.Faults.RateLimitNext(1, TimeSpan.FromSeconds(37));

        using var limited = await client.GetAsync("api/now/table/sys_user");
        using var next = await client.GetAsync("api/now/table/sys_user");
        var body = await Json(limited);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(37), limited.Headers.RetryAfter!.Delta);
        Assert.Equal("5000", limited.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.True(long.Parse(limited.Headers.GetValues("X-RateLimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) > 1_700_000_000);
        Assert.Single(limited.Headers.GetValues("X-RateLimit-Rule"));
        Assert.Equal("Rate limit exceeded", body["error"]!["message"]!.GetValue<string>());
        Assert.Equal("failure", body["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Lists_carry_the_total_and_first_next_last_links()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        for (var i = 0; i < 25; i++)
        {
            sn.Store.Insert("sys_user", ConnectorHarness.User($"u{i:D2}"));
        }

        using var client = Client(sn);
        using var response = await client.GetAsync("api/now/table/sys_user?sysparm_query=user_nameSTARTSWITHu&sysparm_fields=user_name,sys_id&sysparm_limit=10&sysparm_offset=10");
        var link = response.Headers.GetValues("Link").Single();
        var result = (await Json(response))["result"]!.AsArray();

        Assert.Equal("25", response.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(10, result.Count);
        Assert.Equal("u10", result[0]!["user_name"]!.GetValue<string>());
        Assert.Contains("sysparm_offset=0>;rel=\"first\"", link);
        Assert.Contains("sysparm_offset=0>;rel=\"prev\"", link);
        Assert.Contains("sysparm_offset=20>;rel=\"next\"", link);
        Assert.Contains("sysparm_offset=20>;rel=\"last\"", link);
        Assert.Contains($"<{sn.BaseUrl}/api/now/table/sys_user?sysparm_query=user_nameSTARTSWITHu&sysparm_fields=user_name%2Csys_id&sysparm_limit=10", link);
    }

    [Fact]
    public async Task An_empty_list_is_404_on_v1_and_an_empty_result_on_the_other_paths()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);

        using var v1 = await client.GetAsync("api/now/v1/table/sys_user?sysparm_query=user_name=nobody");
        using var plain = await client.GetAsync("api/now/table/sys_user?sysparm_query=user_name=nobody");
        using var v2 = await client.GetAsync("api/now/v2/table/sys_user?sysparm_query=user_name=nobody");

        Assert.Equal(HttpStatusCode.NotFound, v1.StatusCode);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Empty((await Json(plain))["result"]!.AsArray());
        Assert.Empty((await Json(v2))["result"]!.AsArray());
    }

    [Theory]
    [InlineData("user_name=bob", "bob")]
    [InlineData("user_name!=bob^user_nameSTARTSWITHa", "alice,anna")]
    [InlineData("titleLIKEengine", "alice,bob")]
    [InlineData("titleNOT LIKEengine", "anna,carol,x^y")]
    [InlineData("user_nameENDSWITHna", "anna")]
    [InlineData("user_nameINalice,carol", "alice,carol")]
    [InlineData("user_nameINALICE,Carol,alice", "alice,carol")]
    [InlineData("user_nameINalice,nobody^ORemailINbob@x", "alice,bob")]
    [InlineData("user_nameINalice,bob^titleLIKEmanager", "bob")]
    [InlineData("emailINalice@x,", "alice,carol")]
    [InlineData("user_nameNOT INalice,bob,anna", "carol,x^y")]
    [InlineData("emailISEMPTY", "carol")]
    [InlineData("emailISNOTEMPTY^ORDERBYDESCuser_name", "x^y,bob,anna,alice")]
    [InlineData("user_name=alice^ORuser_name=bob", "alice,bob")]
    [InlineData("titleLIKEengine^user_name=bob^ORuser_name=carol", "bob")]
    [InlineData("user_name=anna^NQuser_name=carol", "anna,carol")]
    [InlineData("department.name=Retail", "anna")]
    [InlineData("user_name=x^^y", "x^y")]
    [InlineData("user_name=a^ORDERBYuser_name", "")]
    [InlineData("no such thing^user_name=bob", "bob")]
    public async Task Encoded_queries_select_the_documented_records(string query, string expected)
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(seed: true);
        var retail = sn.Store.Query("cmn_department", "name=Retail").Single()["sys_id"];
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "alice", ["title"] = "Engineer", ["email"] = "alice@x" });
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "bob", ["title"] = "Engineering Manager", ["email"] = "bob@x" });
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "anna", ["title"] = "Designer", ["email"] = "anna@x", ["department"] = retail });
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "carol", ["title"] = "Lawyer" });
        sn.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "x^y", ["title"] = "Caret", ["email"] = "c@x" });
        using var client = Client(sn);

        var result = (await Json(await client.GetAsync($"api/now/table/sys_user?sysparm_fields=user_name&sysparm_query={Uri.EscapeDataString(query)}")))["result"]!.AsArray();
        var names = result.Select(r => r!["user_name"]!.GetValue<string>()).ToList();
        if (!query.Contains("ORDERBY", StringComparison.Ordinal))
        {
            names.Sort(StringComparer.Ordinal);
        }

        Assert.Equal(expected.Length == 0 ? [] : expected.Split(','), names);
    }

    [Fact]
    public async Task Patch_updates_fields_and_counts_modifications_while_incident_priority_stays_derived()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);
        var created = (await Json(await client.PostAsJsonAsync("api/now/table/incident", new { impact = "3", urgency = "3" })))["result"]!;
        var id = created["sys_id"]!.GetValue<string>();

        var patched = (await Json(await client.PatchAsJsonAsync($"api/now/table/incident/{id}", new { urgency = "1", priority = "5" })))["result"]!;
        using var deleted = await client.DeleteAsync($"api/now/table/incident/{id}");
        using var gone = await client.DeleteAsync($"api/now/table/incident/{id}");

        Assert.Equal("3", patched["priority"]!.GetValue<string>());
        Assert.Equal("1", patched["sys_mod_count"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(1, sn.Counters.Served("PATCH", "incident"));
        Assert.Equal(2, sn.Counters.Served("DELETE", "incident"));
    }

    [Fact]
    public async Task Equality_queries_see_updates_and_deletes_at_once()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        var first = sn.Store.Insert("sys_user", ConnectorHarness.User("first", "Engineer"));
        var second = sn.Store.Insert("sys_user", ConnectorHarness.User("second", "Engineer"));
        Assert.Equal(2, sn.Store.Query("sys_user", "title=engineer").Count);

        sn.Store.Update("sys_user", first["sys_id"], new Dictionary<string, string> { ["title"] = "Architect" });
        sn.Store.Delete("sys_user", second["sys_id"]);
        sn.Store.Insert("sys_user", ConnectorHarness.User("third", "ENGINEER"));

        Assert.Equal(["first"], sn.Store.Query("sys_user", "title=Architect").Select(r => r["user_name"]));
        Assert.Equal(["third"], sn.Store.Query("sys_user", "title=Engineer").Select(r => r["user_name"]));
        Assert.Equal(["first", "third"], sn.Store.Query("sys_user", "titleINarchitect,engineer").Select(r => r["user_name"]));
    }

    [Fact]
    public async Task A_reference_can_be_set_by_its_display_value()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(seed: true);
        using var client = Client(sn);

        var user = (await Json(await client.PostAsJsonAsync("api/now/table/sys_user?sysparm_exclude_reference_link=true", new { user_name = "x", department = "Finance" })))["result"]!;

        Assert.Equal(sn.Store.Query("cmn_department", "name=Finance").Single()["sys_id"], user["department"]!.GetValue<string>());
    }

    [Fact]
    public async Task OAuth_client_credentials_issue_a_bearer_token_and_a_wrong_secret_is_refused()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(o => o.TokenLifetime = TimeSpan.FromMinutes(5));
        using var client = Client(sn, authenticated: false);

        using var good = await client.PostAsync("oauth_token.do", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = sn.Options.ClientId,
            ["client_secret"] = sn.Options.ClientSecret,
        }));
        using var bad = await client.PostAsync("oauth_token.do", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = sn.Options.ClientId,
            ["client_secret"] = "wrong",
        }));
        var token = await Json(good);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token["access_token"]!.GetValue<string>());
        using var withToken = await client.GetAsync("api/now/table/sys_user");
        sn.Tokens.ExpireAll();
        using var expired = await client.GetAsync("api/now/table/sys_user");

        Assert.Equal(300, token["expires_in"]!.GetValue<int>());
        Assert.Equal("Bearer", token["token_type"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
    }

    [Fact]
    public async Task Faults_can_be_switched_through_the_admin_route()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(prefix: "/sandbox/servicenow");
        using var client = Client(sn);

        using var set = await client.PostAsJsonAsync("sandbox-admin/faults", new { failNext = 1, failStatus = 502, deniedTables = new[] { "incident" } });
        using var failed = await client.GetAsync("api/now/table/sys_user");
        using var denied = await client.GetAsync("api/now/table/incident");
        await client.PostAsJsonAsync("sandbox-admin/faults", new { outage = true });
        var dropped = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("api/now/table/sys_user"));
        using var reset = await client.DeleteAsync("sandbox-admin/faults");
        using var healthy = await client.GetAsync("api/now/table/sys_user");
        var counters = await Json(await client.GetAsync("sandbox-admin/counters"));

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.NotNull(dropped);
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal(1, counters["GET sys_user"]!.GetValue<long>());
        Assert.Equal(1, counters["dropped"]!.GetValue<long>());
    }

    [Fact]
    public async Task Seeding_adds_reference_data_once_and_a_file_database_survives_a_restart()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sn-emulator-{Guid.NewGuid():N}.db");
        try
        {
            using var output = new StringWriter();
            Assert.Equal(0, ServiceNowSeed.RunSeedCommand(path, output));
            ServiceNowSeed.RunSeedCommand(path, output);
            string number;
            await using (var first = await ServiceNowEmulatorServer.StartAsync(o => o.DatabasePath = path))
            {
                using var client = Client(first);
                number = (await Json(await client.PostAsJsonAsync("api/now/table/incident", new { short_description = "persist me" })))["result"]!["number"]!.GetValue<string>();
            }

            await using var second = await ServiceNowEmulatorServer.StartAsync(o => o.DatabasePath = path);
            using var again = Client(second);
            var next = (await Json(await again.PostAsJsonAsync("api/now/table/incident", new { short_description = "after restart" })))["result"]!["number"]!.GetValue<string>();

            Assert.Equal(ServiceNowSeed.Departments.Count, second.Store.Count("cmn_department"));
            Assert.Equal(ServiceNowSeed.Groups.Count, second.Store.Count("sys_user_group"));
            Assert.Contains("0 departments", output.ToString());
            Assert.Single(second.Store.Query("incident", "short_description=persist me"));
            Assert.Equal("INC0010001", number);
            Assert.Equal("INC0010002", next);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"))
            {
                File.Delete(file);
            }
        }
    }
}
