using System.Globalization;
using System.Text;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Flows.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.ServiceNowWebhooks;

public sealed class WebhookVerifierTests
{
    private const string Secret = "the-current-signing-secret-0123456789";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"table":"sc_req_item"}""");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 3, 0, 0, TimeSpan.Zero));
    private readonly InMemoryWebhookReplayStore _replays = new();

    private WebhookVerifier Verifier(string? secret = Secret, string? previous = null) => new(
        Options.Create(new ServiceNowWebhookOptions { SigningSecret = secret, PreviousSigningSecret = previous }),
        _replays, _clock, NullLogger<WebhookVerifier>.Instance);

    private WebhookHeaders Signed(string requestId = "req-1", TimeSpan? age = null, string secret = Secret, byte[]? body = null)
    {
        var timestamp = (_clock.GetUtcNow() - (age ?? TimeSpan.Zero)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return new WebhookHeaders(timestamp, requestId, WebhookSignature.Compute(secret, timestamp, body ?? Body));
    }

    [Fact]
    public async Task A_fresh_signed_request_is_accepted_and_its_id_remembered()
    {
        var verdict = await Verifier().VerifyAsync(Signed(), Body, default);

        Assert.True(verdict.Accepted);
        Assert.Equal("req-1", verdict.RequestId);
        Assert.Equal(["req-1"], _replays.Remembered);
    }

    [Fact]
    public async Task The_same_request_sent_again_is_refused_as_a_replay()
    {
        var verifier = Verifier();
        var headers = Signed();
        await verifier.VerifyAsync(headers, Body, default);

        var again = await verifier.VerifyAsync(headers, Body, default);

        Assert.False(again.Accepted);
        Assert.Contains("replay", again.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(-301)]
    public async Task A_timestamp_more_than_five_minutes_away_is_refused_and_nothing_remembered(int secondsOld)
    {
        var verdict = await Verifier().VerifyAsync(Signed(age: TimeSpan.FromSeconds(secondsOld)), Body, default);

        Assert.False(verdict.Accepted);
        Assert.Contains("X-EntraSnow-Timestamp", verdict.Refusal, StringComparison.Ordinal);
        Assert.Empty(_replays.Remembered);
    }

    [Fact]
    public async Task A_timestamp_just_inside_the_window_is_accepted()
    {
        Assert.True((await Verifier().VerifyAsync(Signed(age: TimeSpan.FromSeconds(299)), Body, default)).Accepted);
    }

    [Fact]
    public async Task A_body_changed_after_signing_is_refused_and_its_id_stays_usable()
    {
        var headers = Signed();
        var changed = Encoding.UTF8.GetBytes("""{"table":"sc_task"}""");

        var verdict = await Verifier().VerifyAsync(headers, changed, default);

        Assert.False(verdict.Accepted);
        Assert.Contains("X-EntraSnow-Signature", verdict.Refusal, StringComparison.Ordinal);
        Assert.Empty(_replays.Remembered);
    }

    [Fact]
    public async Task The_previous_secret_is_accepted_while_rotating()
    {
        var verdict = await Verifier(previous: "the-previous-signing-secret-9876543210").VerifyAsync(
            Signed(secret: "the-previous-signing-secret-9876543210"), Body, default);

        Assert.True(verdict.Accepted);
    }

    [Fact]
    public async Task Missing_headers_are_refused_naming_them()
    {
        var verdict = await Verifier().VerifyAsync(new WebhookHeaders(null, "req-1", null), Body, default);

        Assert.False(verdict.Accepted);
        Assert.Contains("X-EntraSnow-Signature", verdict.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("17646336OO")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public async Task A_timestamp_that_is_not_unix_seconds_is_refused(string timestamp)
    {
        var verdict = await Verifier().VerifyAsync(new WebhookHeaders(timestamp, "req-1", WebhookSignature.Compute(Secret, timestamp, Body)), Body, default);

        Assert.False(verdict.Accepted);
    }

    [Fact]
    public async Task A_request_id_with_characters_outside_the_allowed_set_is_refused()
    {
        var verdict = await Verifier().VerifyAsync(Signed(requestId: "id with spaces"), Body, default);

        Assert.False(verdict.Accepted);
        Assert.Contains("X-EntraSnow-Request-Id", verdict.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_configured_secret_every_request_is_refused()
    {
        var verdict = await Verifier(secret: null).VerifyAsync(Signed(), Body, default);

        Assert.False(verdict.Accepted);
        Assert.Contains("ServiceNowWebhook:SigningSecret", verdict.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_released_id_can_be_sent_again()
    {
        var verifier = Verifier();
        var headers = Signed();
        var first = await verifier.VerifyAsync(headers, Body, default);

        await verifier.ReleaseAsync(first, default);

        Assert.True((await verifier.VerifyAsync(headers, Body, default)).Accepted);
    }

    [Fact]
    public void Settings_name_the_secret_when_too_short_or_rotated_without_a_new_one()
    {
        var shortSecret = Validate(new ServiceNowWebhookOptions { SigningSecret = "short" });
        var onlyPrevious = Validate(new ServiceNowWebhookOptions { PreviousSigningSecret = "the-previous-signing-secret-9876543210" });

        Assert.Contains(shortSecret, e => e.Contains("ServiceNowWebhook:SigningSecret", StringComparison.Ordinal));
        Assert.Contains(onlyPrevious, e => e.Contains("ServiceNowWebhook:SigningSecret", StringComparison.Ordinal));
        Assert.Empty(Validate(new ServiceNowWebhookOptions { SigningSecret = Secret }));
        Assert.Empty(Validate(new ServiceNowWebhookOptions()));
    }

    private static List<string> Validate(ServiceNowWebhookOptions options)
    {
        var result = new DataAnnotationValidateOptions<ServiceNowWebhookOptions>(null).Validate(null, options);
        return result.Failed ? result.Failures.ToList() : [];
    }
}
