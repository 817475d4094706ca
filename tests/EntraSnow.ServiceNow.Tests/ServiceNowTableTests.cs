using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>The connector against the emulator over real HTTP on loopback: CRUD, paging, upserts, references.</summary>
public sealed class ServiceNowTableTests
{
    private static Dictionary<string, string?> Fields(params (string Key, string? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    [Fact]
    public async Task A_record_can_be_created_read_updated_and_deleted()
    {
        await using var sn = await ConnectorHarness.StartAsync();

        var created = await sn.Table.CreateAsync("incident", Fields(("short_description", "Printer on fire"), ("impact", "1"), ("urgency", "2")));
        var read = await sn.Table.GetAsync("incident", created.SysId);
        var updated = await sn.Table.UpdateAsync("incident", created.SysId, Fields(("state", "2")));
        await sn.Table.DeleteAsync("incident", created.SysId);

        Assert.StartsWith("INC", created["number"]);
        Assert.Equal("2", created["priority"]);
        Assert.Equal("Printer on fire", read!["short_description"]);
        Assert.Equal("2", updated["state"]);
        Assert.Equal("1", updated["sys_mod_count"]);
        Assert.Null(await sn.Table.GetAsync("incident", created.SysId));
    }

    [Fact]
    public async Task A_query_follows_the_next_links_across_several_pages()
    {
        await using var sn = await ConnectorHarness.StartAsync(new() { ["ServiceNow:PageSize"] = "10" });
        for (var i = 0; i < 35; i++)
        {
            sn.Emulator.Store.Insert("sys_user", ConnectorHarness.User($"pager{i:D2}@contoso.example"));
        }

        sn.Calls.Reset();
        var names = new List<string?>();
        await foreach (var user in sn.Table.QueryAsync("sys_user", EncodedQuery.Where("user_name", "STARTSWITH", "pager").OrderBy("user_name"), ["user_name"]))
        {
            names.Add(user["user_name"]);
        }

        var pagesRead = sn.Calls.Reads;
        var total = await sn.Table.CountAsync("sys_user", EncodedQuery.Where("user_name", "STARTSWITH", "pager"));

        Assert.Equal(35, total);
        Assert.Equal(35, names.Count);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal(4, pagesRead);
    }

    [Fact]
    public async Task Upsert_of_a_new_key_creates_the_record_in_two_calls()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "warm-up")); // token fetched outside the count
        sn.Calls.Reset();

        var result = await sn.Table.UpsertAsync("sys_user", "user_name", "adele.vance@contoso.example", Fields(("first_name", "Adele"), ("title", "Retail Manager")));

        Assert.Equal(UpsertOutcome.Created, result.Outcome);
        Assert.Equal("Retail Manager", sn.Emulator.Store.Get("sys_user", result.SysId)!["title"]);
        Assert.Equal(2, sn.Calls.Total);
    }

    [Fact]
    public async Task Upsert_that_changes_one_field_patches_only_that_field()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        var first = await sn.Table.UpsertAsync("sys_user", "user_name", "adele.vance@contoso.example", Fields(("first_name", "Adele"), ("title", "Retail Manager"), ("mobile_phone", null)));
        sn.Calls.Reset();
        sn.Emulator.Counters.Reset();

        var second = await sn.Table.UpsertAsync("sys_user", "user_name", "adele.vance@contoso.example", Fields(("first_name", "Adele"), ("title", "Retail Director"), ("mobile_phone", null)));

        Assert.Equal(UpsertOutcome.Updated, second.Outcome);
        Assert.Equal(first.SysId, second.SysId);
        Assert.Equal(["title"], second.ChangedFields);
        Assert.Equal(1, sn.Emulator.Counters.Served("PATCH", "sys_user"));
        var stored = sn.Emulator.Store.Get("sys_user", first.SysId)!;
        Assert.Equal("Retail Director", stored["title"]);
        Assert.Equal("1", stored["sys_mod_count"]);
        Assert.Equal(2, sn.Calls.Total);
    }

    [Fact]
    public async Task Upsert_of_an_unchanged_record_writes_nothing()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        var fields = Fields(("first_name", "Adele"), ("title", "Retail Manager"), ("department", null));
        var first = await sn.Table.UpsertAsync("sys_user", "user_name", "adele.vance@contoso.example", fields);
        var before = sn.Emulator.Store.Get("sys_user", first.SysId)!;
        sn.Calls.Reset();
        sn.Emulator.Counters.Reset();

        var again = await sn.Table.UpsertAsync("sys_user", "user_name", "ADELE.VANCE@contoso.example", fields);

        Assert.Equal(UpsertOutcome.Unchanged, again.Outcome);
        Assert.Empty(again.ChangedFields);
        Assert.Equal(0, sn.Emulator.Counters.Writes());
        Assert.Equal(before["sys_updated_on"], sn.Emulator.Store.Get("sys_user", first.SysId)!["sys_updated_on"]);
        Assert.Equal(1, sn.Calls.Total);
        Assert.Equal(1, sn.Emulator.Store.Count("sys_user"));
    }

    [Fact]
    public async Task Upsert_with_an_empty_matching_value_is_refused_as_EntryJoiningPropertyValueIsMissing()
    {
        await using var sn = await ConnectorHarness.StartAsync();

        var error = await Assert.ThrowsAsync<ServiceNowMatchingValueMissingException>(() =>
            sn.Table.UpsertAsync("sys_user", "user_name", " ", Fields(("title", "x"))));

        Assert.Contains("EntryJoiningPropertyValueIsMissing", error.Message);
        Assert.Equal(0, sn.Emulator.Store.Count("sys_user"));
    }

    [Fact]
    public async Task A_matching_value_with_caret_or_equals_cannot_change_the_query()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        sn.Emulator.Store.Insert("sys_user", ConnectorHarness.User("victim@contoso.example", "Victim"));

        var sneaky = "nobody^ORuser_name=victim@contoso.example";
        var found = await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", sneaky));
        var upserted = await sn.Table.UpsertAsync("sys_user", "user_name", sneaky, Fields(("title", "Attacker")));

        Assert.Null(found);
        Assert.Equal(UpsertOutcome.Created, upserted.Outcome);
        Assert.Equal(sneaky, sn.Emulator.Store.Get("sys_user", upserted.SysId)!["user_name"]);
        Assert.Equal("Victim", sn.Emulator.Store.Query("sys_user", "user_name=victim@contoso.example").Single()["title"]);
    }

    [Fact]
    public async Task Reference_fields_are_read_as_sys_ids_in_every_shape_ServiceNow_sends()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        var retail = sn.Emulator.Store.Query("cmn_department", "name=Retail").Single()["sys_id"];
        var user = sn.Emulator.Store.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = "adele", ["department"] = retail, ["manager"] = "" });

        var plain = await sn.Table.GetAsync("sys_user", user["sys_id"]);
        var all = await sn.Table.GetAsync("sys_user", user["sys_id"], new ServiceNowReadOptions { DisplayValue = ServiceNowDisplayValue.All });
        var display = await sn.Table.GetAsync("sys_user", user["sys_id"], new ServiceNowReadOptions { DisplayValue = ServiceNowDisplayValue.True });

        Assert.Equal(retail, plain!["department"]);
        Assert.Equal(string.Empty, plain["manager"]);
        Assert.Equal(retail, all!["department"]);
        Assert.Equal("Retail", all.DisplayValues["department"]);
        Assert.Equal(string.Empty, all["manager"]);
        Assert.Equal(retail, display!["department"]);
        Assert.Equal("Retail", display.DisplayValues["department"]);
    }

    [Fact]
    public async Task The_connector_appends_the_api_paths_to_an_instance_url_with_a_path_prefix()
    {
        await using var sn = await ConnectorHarness.StartAsync(prefix: "/sandbox/servicenow");

        var created = await sn.Table.UpsertAsync("sys_user_group", "name", "Prefixed Group", Fields(("description", "behind a prefix")));

        Assert.EndsWith("/sandbox/servicenow", sn.Options.InstanceUrl);
        Assert.Equal("behind a prefix", sn.Emulator.Store.Get("sys_user_group", created.SysId)!["description"]);
    }

    [Fact]
    public async Task Reference_lookups_are_cached_so_many_users_of_one_department_look_it_up_once()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        sn.Emulator.Counters.Reset();

        var ids = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => sn.References.FindAsync("cmn_department", "name", "Retail")));
        var lookupsBeforeExpiry = sn.Emulator.Counters.Served("GET", "cmn_department");
        sn.Clock.Advance(sn.Options.ReferenceCacheTtl + TimeSpan.FromSeconds(1));
        await sn.References.FindAsync("cmn_department", "name", "Retail");

        Assert.Single(ids.Distinct());
        Assert.NotNull(ids[0]);
        Assert.Equal(1, lookupsBeforeExpiry);
        Assert.Equal(2, sn.Emulator.Counters.Served("GET", "cmn_department"));
    }

    [Fact]
    public async Task A_missing_reference_is_reported_as_InvalidLookupReference_and_FindOrCreate_creates_it_once()
    {
        await using var sn = await ConnectorHarness.StartAsync();

        var missing = await Assert.ThrowsAsync<ServiceNowReferenceMissingException>(() => sn.References.RequireAsync("cmn_department", "name", "Quantum Research"));
        var created = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => sn.References.FindOrCreateAsync("cmn_department", "name", "Quantum Research")));

        Assert.Contains("InvalidLookupReference", missing.Message);
        Assert.Single(created.Distinct());
        Assert.Single(sn.Emulator.Store.Query("cmn_department", "name=Quantum Research"));
    }
}
