using System.Text;
using EntraSnow.Flows.ServiceNowWebhooks;

namespace EntraSnow.Flows.Tests.ServiceNowWebhooks;

public sealed class WebhookSignatureTests
{
    private const string Secret = "an-example-secret-of-thirty-two-chars!";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"table":"sc_req_item"}""");

    // Computed outside .NET (Python's hmac module) from the README recipe: HMAC-SHA256(secret, "1764633600." + body).
    private const string Expected = "sha256=ae9303a83a0e9a5df7ce5670446b0c415737ebb2d9185ee6462e61ea6c0ddef1";

    [Fact]
    public void Signature_follows_the_documented_recipe()
    {
        Assert.Equal(Expected, WebhookSignature.Compute(Secret, "1764633600", Body));
        Assert.Equal(Expected, WebhookSignature.Compute(Secret, 1764633600L, Body));
    }

    [Fact]
    public void The_signature_of_the_body_and_timestamp_matches()
    {
        Assert.True(WebhookSignature.Matches(Expected, "1764633600", Body, Secret));
    }

    [Fact]
    public void A_changed_body_or_timestamp_does_not_match()
    {
        Assert.False(WebhookSignature.Matches(Expected, "1764633600", Encoding.UTF8.GetBytes("""{"table":"sc_task"}"""), Secret));
        Assert.False(WebhookSignature.Matches(Expected, "1764633601", Body, Secret));
    }

    [Fact]
    public void The_previous_secret_matches_while_rotating_and_a_wrong_one_never()
    {
        var signedWithOld = WebhookSignature.Compute("the-previous-secret-of-thirty-two-c", "1764633600", Body);

        Assert.True(WebhookSignature.Matches(signedWithOld, "1764633600", Body, Secret, "the-previous-secret-of-thirty-two-c"));
        Assert.False(WebhookSignature.Matches(signedWithOld, "1764633600", Body, Secret));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ae9303a83a0e9a5df7ce5670446b0c415737ebb2d9185ee6462e61ea6c0ddef1")]
    [InlineData("sha1=ae9303a83a0e9a5df7ce5670446b0c415737ebb2d9185ee6462e61ea6c0ddef1")]
    [InlineData("sha256=AE9303A83A0E9A5DF7CE5670446B0C415737EBB2D9185EE6462E61EA6C0DDEF1")]
    [InlineData("sha256=ae9303a83a0e9a5df7ce5670446b0c415737ebb2d9185ee6462e61ea6c0dde")]
    [InlineData("sha256=ze9303a83a0e9a5df7ce5670446b0c415737ebb2d9185ee6462e61ea6c0ddef1")]
    public void Malformed_signatures_never_match(string? signature)
    {
        Assert.False(WebhookSignature.Matches(signature, "1764633600", Body, Secret));
    }

    [Fact]
    public void No_secret_matches_nothing()
    {
        Assert.False(WebhookSignature.Matches(Expected, "1764633600", Body, []));
        Assert.False(WebhookSignature.Matches(Expected, "1764633600", Body, ""));
    }
}
