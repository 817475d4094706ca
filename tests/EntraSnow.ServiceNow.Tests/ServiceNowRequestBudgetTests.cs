using System.Globalization;
using System.Net;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>The shared ServiceNow budget: never more in flight than allowed, whoever calls, and the instance's pace kept.</summary>
public sealed class ServiceNowRequestBudgetTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private static ServiceNowRequestBudget Budget(FakeTimeProvider clock, int capacity = 4, TimeSpan? patience = null) =>
        new(Options.Create(new ServiceNowOptions
        {
            InstanceUrl = "https://example.service-now.com",
            MaxConcurrency = capacity,
            RetryAfterPatience = patience ?? TimeSpan.FromMinutes(2),
        }), clock);

    private static HttpResponseMessage Answer(HttpStatusCode status, int? limit = null, DateTimeOffset? reset = null, int? remaining = null, int? retryAfterSeconds = null)
    {
        var response = new HttpResponseMessage(status);
        if (limit is { } l)
        {
            response.Headers.Add("X-RateLimit-Limit", l.ToString(CultureInfo.InvariantCulture));
        }

        if (reset is { } r)
        {
            response.Headers.Add("X-RateLimit-Reset", r.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        }

        if (remaining is { } left)
        {
            response.Headers.Add("X-RateLimit-Remaining", left.ToString(CultureInfo.InvariantCulture));
        }

        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.Add("Retry-After", seconds.ToString(CultureInfo.InvariantCulture));
        }

        return response;
    }

    [Fact]
    public async Task Several_flows_calling_at_once_never_have_more_than_the_budget_in_flight_and_keep_it_full()
    {
        await using var sn = await ConnectorHarness.StartAsync(new() { ["ServiceNow:MaxConcurrency"] = "4" }, emulator: o => o.LatencyMs = 40);
        var retail = sn.Emulator.Store.Query("cmn_department", "name=Retail").Single()["sys_id"];
        sn.Emulator.Counters.Reset();

        // Three flows at once: provisioning upserts, reference lookups, and reads of another table.
        var provisioning = Enumerable.Range(0, 15).Select(i =>
            sn.Table.UpsertAsync("sys_user", "user_name", $"load{i}@contoso.example", new Dictionary<string, string?> { ["title"] = "Engineer" }));
        var lookups = Enumerable.Range(0, 15).Select(_ => sn.Table.GetAsync("cmn_department", retail));
        var incidents = Enumerable.Range(0, 15).Select(i => sn.Table.FindAsync("incident", EncodedQuery.Where("correlation_id", $"x{i}")));
        await Task.WhenAll(provisioning.Cast<Task>().Concat(lookups).Concat(incidents));

        Assert.Equal(4, sn.Emulator.Counters.PeakInFlight);
        Assert.Equal(15, sn.Emulator.Store.Count("sys_user"));
    }

    [Fact]
    public async Task Callers_beyond_the_budget_wait_in_line_and_go_in_order_as_places_free()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = Budget(clock, capacity: 2);

        var first = await budget.AcquireAsync();
        var second = await budget.AcquireAsync();
        var third = budget.AcquireAsync().AsTask();
        var fourth = budget.AcquireAsync().AsTask();
        var waitingBefore = budget.Waiting;
        first.Dispose();
        await third;

        Assert.Equal(2, waitingBefore);
        Assert.False(fourth.IsCompleted);
        Assert.Equal(2, budget.InFlight);
        second.Dispose();
        (await fourth).Dispose();
        (await third).Dispose();
        Assert.Equal(0, budget.InFlight);
        Assert.Equal(2, budget.PeakInFlight);
    }

    [Fact]
    public async Task A_429_holds_every_caller_for_its_Retry_After_and_consumers_take_no_work_meanwhile()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = Budget(clock);

        budget.Observe(Answer(HttpStatusCode.TooManyRequests, limit: 1000, reset: Start.AddMinutes(30), retryAfterSeconds: 30));
        var otherFlow = budget.AcquireAsync().AsTask();
        var consumer = budget.WaitForRoomAsync();
        clock.Advance(TimeSpan.FromSeconds(29));
        var heldAt29 = otherFlow.IsCompleted || consumer.IsCompleted;
        clock.Advance(TimeSpan.FromSeconds(1));
        (await otherFlow).Dispose();
        await consumer;

        Assert.False(heldAt29);
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_pause_longer_than_the_patience_fails_at_once_with_the_wait_so_the_message_is_rescheduled()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = Budget(clock, patience: TimeSpan.FromMinutes(2));

        budget.Observe(Answer(HttpStatusCode.TooManyRequests, retryAfterSeconds: 1800));
        var error = await Assert.ThrowsAsync<ServiceNowRateLimitedException>(() => budget.AcquireAsync().AsTask());

        Assert.Equal(TimeSpan.FromMinutes(30), error.RetryAfter);
        Assert.Equal(0, budget.InFlight);
    }

    [Fact]
    public async Task When_X_RateLimit_Remaining_runs_low_what_is_left_is_spread_until_the_reset()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = Budget(clock, capacity: 4);

        // 5 left of 1,000 with 10 minutes to the reset: one request every 2 minutes, not 5 at once and then 429s.
        budget.Observe(Answer(HttpStatusCode.OK, limit: 1000, reset: Start.AddMinutes(10), remaining: 5));
        var now = await budget.AcquireAsync();
        var next = budget.AcquireAsync().AsTask();
        clock.Advance(TimeSpan.FromSeconds(119));
        var startedEarly = next.IsCompleted;
        clock.Advance(TimeSpan.FromSeconds(1));
        (await next).Dispose();
        now.Dispose();

        Assert.False(startedEarly);
    }

    [Fact]
    public async Task Plenty_of_requests_left_means_no_pacing()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = Budget(clock, capacity: 4);

        budget.Observe(Answer(HttpStatusCode.OK, limit: 1000, reset: Start.AddMinutes(10), remaining: 900));
        var leases = new List<IDisposable>();
        for (var i = 0; i < 4; i++)
        {
            var acquiring = budget.AcquireAsync();
            Assert.True(acquiring.IsCompleted); // at once, no clock movement needed
            leases.Add(await acquiring);
        }

        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public async Task Without_X_RateLimit_Remaining_the_requests_sent_in_the_window_are_counted_against_the_limit()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = Budget(clock, capacity: 2, patience: TimeSpan.FromMinutes(2));
        var reset = Start.AddMinutes(20);

        for (var i = 0; i < 100; i++)
        {
            budget.Observe(Answer(HttpStatusCode.OK, limit: 100, reset: reset)); // ServiceNow's documented headers only
        }

        var error = await Assert.ThrowsAsync<ServiceNowRateLimitedException>(() => budget.AcquireAsync().AsTask());

        Assert.Equal(TimeSpan.FromMinutes(20), error.RetryAfter);
        Assert.Equal(reset, budget.PausedUntil);
    }

    [Fact]
    public async Task An_hourly_rule_is_never_exceeded_its_last_requests_are_spread_until_the_reset_and_none_is_refused()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 50, 0, TimeSpan.Zero));
        await using var emulator = await ServiceNowEmulatorServer.StartAsync(o => o.RateLimitPerHour = 20, timeProvider: clock);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(emulator.ConnectorSettings)
        {
            ["ServiceNow:MaxConcurrency"] = "2",
            ["ServiceNow:AttemptTimeout"] = "00:00:00",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(clock);
        services.AddServiceNowConnector(configuration);
        await using var provider = services.BuildServiceProvider();
        var table = provider.GetRequiredService<IServiceNowTable>();
        Task<ServiceNowRecord?> Find(string name) => table.FindAsync("sys_user", EncodedQuery.Where("user_name", name));

        // 20 an hour, 10 minutes to the reset: 18 at once, then the last two spread over what is left (5 minutes apart).
        for (var i = 0; i < 19; i++)
        {
            await Find($"u{i}");
        }

        var spread = await Assert.ThrowsAsync<ServiceNowRateLimitedException>(() => Find("too soon"));
        clock.SetUtcNow(new DateTimeOffset(2026, 12, 2, 9, 55, 0, TimeSpan.Zero));
        await Find("u19");
        var over = await Assert.ThrowsAsync<ServiceNowRateLimitedException>(() => Find("over the limit"));
        var sentThisHour = emulator.Counters.Reads("sys_user");
        clock.SetUtcNow(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
        await Find("next hour");

        Assert.Equal(TimeSpan.FromMinutes(5), spread.RetryAfter);
        Assert.Equal(TimeSpan.FromMinutes(5), over.RetryAfter);
        Assert.Equal(20, sentThisHour);
        Assert.Equal(0, emulator.Counters.RateLimited);
        Assert.Equal(21, emulator.Counters.Reads("sys_user"));
    }
}
