namespace EntraSnow.Tests.Shared;

/// <summary>
/// The Graph payload fixtures in tests/Fixtures/graph (copied beside the test binaries), and the values they carry.
/// </summary>
internal static class Samples
{
    public const string ClientState = "entrasnow-fixture-client-state";
    public const string TenantId = "0c4a7e2d-5b19-4f63-8e0a-d2c6b8f4a1e3";

    /// <summary>The user of user-updated.json and eventgrid-user-updated.json.</summary>
    public const string UserId = "3c9e7a51-2f4b-4d86-a1e0-9b7c5d3f1a24";

    /// <summary>The users subscription: user notifications and the lifecycle notifications name it.</summary>
    public const string UserSubscriptionId = "e7d1c0b9-a4f3-4e21-9d8c-1b2a3f4e5d6c";

    /// <summary>user-updated.json's sequenceNumber (larger than a double holds exactly, as Graph's are).</summary>
    public const string UserUpdatedSequenceNumber = "638686947091234567";

    public static readonly DateTimeOffset UserUpdatedAt = new(2026, 12, 1, 14, 5, 9, TimeSpan.Zero);

    public static string GraphSample(string name) => File.ReadAllText(PathOf(name));

    public static byte[] GraphSampleBytes(string name) => File.ReadAllBytes(PathOf(name));

    private static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "graph", name);
}
