using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>The emulator plays an instance's speed and its hourly rate-limit rule, as ServiceNow documents them.</summary>
public sealed class ServiceNowEmulatorPacingTests
{
    private static HttpClient Client(ServiceNowEmulatorServer sn)
    {
        var client = new HttpClient { BaseAddress = new Uri(sn.BaseUrl + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:sandbox")));
        return client;
    }

    private static long Header(HttpResponseMessage response, string name) =>
        long.Parse(response.Headers.GetValues(name).Single(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task Configured_latency_slows_every_answer_and_stays_after_the_faults_are_cleared()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(o => o.LatencyMs = 120);
        using var client = Client(sn);

        var watch = Stopwatch.StartNew();
        using var first = await client.GetAsync("api/now/table/sys_user");
        var firstTook = watch.Elapsed;
        sn.Faults.Reset();
        watch.Restart();
        using var afterReset = await client.GetAsync("api/now/table/sys_user");
        var afterResetTook = watch.Elapsed;

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(firstTook >= TimeSpan.FromMilliseconds(120), $"answered in {firstTook.TotalMilliseconds} ms");
        Assert.True(afterResetTook >= TimeSpan.FromMilliseconds(120), $"answered in {afterResetTook.TotalMilliseconds} ms");
        Assert.Equal(120, sn.Faults.Snapshot().LatencyMs);
    }

    [Fact]
    public async Task Requests_served_at_once_are_counted_with_their_latency()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(o => o.LatencyMs = 300);
        using var client = Client(sn);

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => client.GetAsync("api/now/table/sys_user")));

        Assert.Equal(5, sn.Counters.PeakInFlight);
        Assert.Equal(0, sn.Counters.InFlight);
    }

    [Fact]
    public async Task An_hourly_rule_announces_itself_and_refuses_the_request_over_the_limit_until_the_hour_ends()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 40, 0, TimeSpan.Zero));
        await using var sn = await ServiceNowEmulatorServer.StartAsync(o => o.RateLimitPerHour = 3, timeProvider: clock);
        using var client = Client(sn);
        var nextHour = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

        var allowed = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            allowed.Add(await client.GetAsync("api/now/table/sys_user"));
        }

        using var refused = await client.GetAsync("api/now/table/sys_user");
        clock.SetUtcNow(nextHour);
        using var nextHourAnswer = await client.GetAsync("api/now/table/sys_user");

        Assert.All(allowed, r =>
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(3, Header(r, "X-RateLimit-Limit"));
            Assert.Equal(nextHour.ToUnixTimeSeconds(), Header(r, "X-RateLimit-Reset"));
            Assert.Equal(ServiceNowRateLimitRule.RuleSysId, r.Headers.GetValues("X-RateLimit-Rule").Single());
            Assert.False(r.Headers.Contains("X-RateLimit-Remaining")); // ServiceNow documents none
        });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(20), refused.Headers.RetryAfter!.Delta);
        Assert.Contains("Rate limit of 3 requests per hour for Table API exceeded", await refused.Content.ReadAsStringAsync());
        Assert.Equal(1, sn.Counters.RateLimited);
        Assert.Equal(HttpStatusCode.OK, nextHourAnswer.StatusCode);
        Assert.Equal(nextHour.AddHours(1).ToUnixTimeSeconds(), Header(nextHourAnswer, "X-RateLimit-Reset"));
        allowed.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task Without_a_rule_answers_carry_no_rate_limit_headers()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync();
        using var client = Client(sn);

        using var response = await client.GetAsync("api/now/table/sys_user");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-RateLimit-Limit"));
    }
}
