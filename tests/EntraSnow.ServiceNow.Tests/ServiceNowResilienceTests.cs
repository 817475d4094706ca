using EntraSnow.Connectors.ServiceNow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>Throttling, outages, 5xx, timeouts, auth and typed failures, against the emulator's injected faults.</summary>
public sealed class ServiceNowResilienceTests
{
    private static Dictionary<string, string?> Title(string title) => new() { ["title"] = title };

    [Fact]
    public async Task A_429_storm_is_waited_out_and_every_write_lands_exactly_once()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "warm-up"));
        sn.Emulator.Counters.Reset();
        sn.Emulator.Faults.RateLimitNext(60, TimeSpan.FromSeconds(2));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            sn.Table.UpsertAsync("sys_user", "user_name", $"storm{i}@contoso.example", Title("Engineer"))));

        Assert.All(results, r => Assert.Equal(UpsertOutcome.Created, r.Outcome));
        Assert.Equal(60, sn.Emulator.Counters.RateLimited);
        Assert.Equal(20, sn.Emulator.Counters.Served("POST", "sys_user"));
        Assert.Equal(20, sn.Emulator.Store.Count("sys_user"));
        Assert.All(Enumerable.Range(0, 20), i => Assert.Single(sn.Emulator.Store.Query("sys_user", $"user_name=storm{i}@contoso.example")));
        Assert.True(sn.Clock.Waited >= TimeSpan.FromSeconds(2), $"waited {sn.Clock.Waited}");
    }

    [Fact]
    public async Task Rate_limiting_beyond_the_connectors_patience_surfaces_as_rate_limited()
    {
        await using var sn = await ConnectorHarness.StartAsync(new() { ["ServiceNow:RetryAfterPatience"] = "00:00:40" });
        sn.Emulator.Faults.RateLimitNext(1000, TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<ServiceNowRateLimitedException>(() =>
            sn.Table.UpsertAsync("sys_user", "user_name", "patient@contoso.example", Title("Engineer")));

        Assert.Equal(TimeSpan.FromSeconds(30), error.RetryAfter);
        Assert.True(error.IsTransient);
        Assert.Equal(2, sn.Emulator.Counters.RateLimited); // one wait of 30 s fits in 40 s of patience, a second does not
        Assert.Equal(0, sn.Emulator.Store.Count("sys_user"));
    }

    [Fact]
    public async Task An_outage_opens_the_circuit_and_the_connector_recovers_when_the_instance_is_back()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        var retail = sn.Emulator.Store.Query("cmn_department", "name=Retail").Single()["sys_id"];
        await sn.Table.GetAsync("cmn_department", retail);
        sn.Emulator.Faults.Outage = true;

        var duringOutage = await Assert.ThrowsAsync<ServiceNowUnreachableException>(() => sn.Table.GetAsync("cmn_department", retail));
        var circuitOpen = await Assert.ThrowsAsync<ServiceNowUnreachableException>(() => sn.Table.GetAsync("cmn_department", retail));
        var droppedWhileOpen = sn.Emulator.Counters.Dropped;
        sn.Emulator.Faults.Outage = false;
        var stillOpen = await Assert.ThrowsAsync<ServiceNowUnreachableException>(() => sn.Table.GetAsync("cmn_department", retail));
        sn.Clock.Advance(sn.Options.CircuitBreakerBreakDuration + TimeSpan.FromSeconds(1));
        var recovered = await sn.Table.GetAsync("cmn_department", retail);

        Assert.True(duringOutage.IsTransient);
        Assert.Contains("circuit open", circuitOpen.Message);
        Assert.Contains("circuit open", stillOpen.Message);
        Assert.Equal(droppedWhileOpen, sn.Emulator.Counters.Dropped); // an open circuit spares the instance
        Assert.Equal("Retail", recovered!["name"]);
    }

    [Fact]
    public async Task A_5xx_burst_on_reads_is_retried_with_backoff()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        var retail = sn.Emulator.Store.Query("cmn_department", "name=Retail").Single()["sys_id"];
        await sn.Table.GetAsync("cmn_department", retail);
        sn.Calls.Reset();
        sn.Emulator.Faults.FailNext(2, 503);

        var record = await sn.Table.GetAsync("cmn_department", retail);

        Assert.Equal("Retail", record!["name"]);
        Assert.Equal(3, sn.Calls.Reads);
        Assert.True(sn.Clock.Waited > TimeSpan.Zero, "the retries backed off"); // jittered, so no exact figure
    }

    [Fact]
    public async Task A_create_that_failed_with_5xx_is_not_resent_blindly_and_the_upsert_retry_creates_it_once()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "warm-up"));
        sn.Emulator.Counters.Reset();
        sn.Calls.Reset();

        sn.Emulator.Faults.FailNext(1, 500);
        await Assert.ThrowsAsync<ServiceNowUnreachableException>(() => sn.Table.CreateAsync("sys_user", new Dictionary<string, string?> { ["user_name"] = "once@contoso.example" }));
        var writesAfterFailure = sn.Calls.Writes;
        var retried = await sn.Table.UpsertAsync("sys_user", "user_name", "once@contoso.example", Title("Engineer"));

        Assert.Equal(1, writesAfterFailure);
        Assert.Equal(UpsertOutcome.Created, retried.Outcome);
        Assert.Single(sn.Emulator.Store.Query("sys_user", "user_name=once@contoso.example"));
    }

    [Fact]
    public async Task A_slow_answer_times_out_and_is_retried_on_the_real_clock()
    {
        await using var sn = await ConnectorHarness.StartAsync(new()
        {
            // Timeouts run on the real clock. The attempt timeout leaves a loaded CI machine room for the warm-up call,
            // and the injected latency is far beyond it, so only the fault can time out.
            ["UseSystemClock"] = "true",
            ["ServiceNow:AttemptTimeout"] = "00:00:02",
            ["ServiceNow:RetryBaseDelay"] = "00:00:00.010",
            ["ServiceNow:MaxRetryAttempts"] = "1",
        });
        await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "warm-up"));
        sn.Calls.Reset();
        sn.Emulator.Faults.Latency = TimeSpan.FromSeconds(60);

        var error = await Assert.ThrowsAsync<ServiceNowUnreachableException>(() => sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "slow")));

        Assert.Contains("timed out", error.Message);
        Assert.Equal(2, sn.Calls.Reads);
    }

    [Fact]
    public async Task A_token_expiring_mid_run_is_refreshed_once()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "warm-up"));
        sn.Emulator.Tokens.ExpireAll();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            sn.Table.UpsertAsync("sys_user", "user_name", $"mid-run{i}@contoso.example", Title("Engineer"))));

        Assert.All(results, r => Assert.Equal(UpsertOutcome.Created, r.Outcome));
        Assert.Equal(2, sn.Emulator.Counters.TokensIssued);
        Assert.Equal(2, sn.Calls.TokenRequests);
    }

    [Fact]
    public async Task A_token_is_refreshed_shortly_before_it_expires()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "warm-up"));
        sn.Clock.Advance(sn.Emulator.Options.TokenLifetime - TimeSpan.FromSeconds(30));

        await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "later"));

        Assert.Equal(2, sn.Emulator.Counters.TokensIssued);
        Assert.Equal(0, sn.Emulator.Counters.Unauthorized);
    }

    [Fact]
    public async Task Basic_auth_works_and_a_wrong_password_is_unauthorized_without_revealing_it()
    {
        await using var good = await ConnectorHarness.StartAsync(new() { ["ServiceNow:AuthMode"] = "Basic" });
        await using var bad = await ConnectorHarness.StartAsync(new() { ["ServiceNow:AuthMode"] = "Basic", ["ServiceNow:Password"] = "hunter2-wrong" });

        var created = await good.Table.UpsertAsync("sys_user", "user_name", "basic@contoso.example", Title("Engineer"));
        var error = await Assert.ThrowsAsync<ServiceNowUnauthorizedException>(() => bad.Table.GetAsync("sys_user", created.SysId));

        Assert.Equal(UpsertOutcome.Created, created.Outcome);
        Assert.Equal(0, good.Calls.TokenRequests);
        Assert.Equal(401, error.StatusCode);
        Assert.Equal("Required to provide Auth information", error.Detail);
        Assert.DoesNotContain("hunter2", error.ToString());
    }

    [Fact]
    public async Task A_wrong_client_secret_is_unauthorized_without_revealing_it()
    {
        await using var sn = await ConnectorHarness.StartAsync(new() { ["ServiceNow:ClientSecret"] = "s3cr3t-value-wrong" });

        var error = await Assert.ThrowsAsync<ServiceNowUnauthorizedException>(() => sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "x")));

        Assert.DoesNotContain("s3cr3t", error.ToString());
        Assert.Equal(0, sn.Emulator.Counters.Reads());
    }

    [Fact]
    public async Task A_table_forbidden_by_an_ACL_surfaces_as_forbidden_with_ServiceNows_detail()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        sn.Emulator.Faults.DenyTable("incident");

        var error = await Assert.ThrowsAsync<ServiceNowForbiddenException>(() => sn.Table.CreateAsync("incident", new Dictionary<string, string?> { ["short_description"] = "x" }));

        Assert.Equal(403, error.StatusCode);
        Assert.Contains("ACL", error.Detail);
        Assert.Equal(0, sn.Emulator.Store.Count("incident"));
    }

    [Fact]
    public async Task Other_4xx_are_not_retried_and_carry_ServiceNows_message_and_detail()
    {
        await using var sn = await ConnectorHarness.StartAsync();
        await sn.Table.FindAsync("sys_user", EncodedQuery.Where("user_name", "warm-up"));
        sn.Calls.Reset();

        var error = await Assert.ThrowsAsync<ServiceNowRequestException>(() =>
            sn.Table.UpdateAsync("sys_user", "0123456789abcdef0123456789abcdef", Title("Ghost")));

        Assert.Equal(404, error.StatusCode);
        Assert.Contains("No Record found", error.Message);
        Assert.Equal("Record doesn't exist or ACL restricts the record retrieval", error.Detail);
        Assert.Equal(1, sn.Calls.Total);
    }

    [Fact]
    public void Options_are_validated_at_start_up()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServiceNow:InstanceUrl"] = "not a url",
            ["ServiceNow:AuthMode"] = "OAuth",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddServiceNowConnector(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ServiceNowOptions>>().Value);

        Assert.Contains(error.Failures, f => f.Contains("InstanceUrl", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ClientSecret", StringComparison.Ordinal));
    }
}
