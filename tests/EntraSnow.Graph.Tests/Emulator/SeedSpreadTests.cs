using System.Globalization;
using System.Text.Json.Nodes;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Emulator;

/// <summary>A seeded directory looks like a tenant to a sweep: mostly active members, a tail of inactive ones, and the accounts a sweep must tell apart.</summary>
public sealed class SeedSpreadTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(JsonNode? node) => DateTimeOffset.Parse(node!.GetValue<string>(), CultureInfo.InvariantCulture);

    private static DateTimeOffset? LastSignIn(JsonObject user) =>
        user["signInActivity"]?["lastSuccessfulSignInDateTime"] is { } last ? At(last) : null;

    private static double Share(List<JsonObject> users, Func<JsonObject, bool> which) => users.Count(which) / (double)users.Count;

    [Fact]
    public async Task A_seeded_directory_has_a_believable_mix_of_activity_account_kinds_and_licences()
    {
        await using var graph = await GraphEmulatorServer.StartAsync();
        var seeded = graph.Seed(new GraphSeedSpec { Users = 5000, Groups = 0, RiskDetections = 0, ReferenceTime = Now });
        var users = seeded.UserIds.Select(id => graph.Emulator.GetUser(id)!).ToList();
        bool Guest(JsonObject u) => u["userType"]!.GetValue<string>() == "Guest";
        bool Service(JsonObject u) => u["employeeType"]?.GetValue<string>() == "Service";
        bool Enabled(JsonObject u) => u["accountEnabled"]!.GetValue<bool>();
        var members = users.Where(u => !Guest(u) && !Service(u) && Enabled(u)).ToList();
        var guests = users.Where(Guest).ToList();

        // Most members signed in within the last week; roughly one in ten has not for 90 days.
        Assert.InRange(Share(members, u => LastSignIn(u) > Now.AddDays(-7)), 0.55, 0.80);
        Assert.InRange(Share(members, u => LastSignIn(u) <= Now.AddDays(-90)), 0.05, 0.15);
        Assert.Contains(members, u => LastSignIn(u) <= Now.AddDays(-365));
        // Guests are less active than members.
        Assert.True(Share(guests, u => LastSignIn(u) <= Now.AddDays(-90)) > 2 * Share(members, u => LastSignIn(u) <= Now.AddDays(-90)));
        // New joiners: created within 45 days, some not signed in yet; nobody signed in before being created.
        var joiners = users.Where(u => At(u["createdDateTime"]) > Now.AddDays(-45)).ToList();
        Assert.InRange(joiners.Count, 50, 300);
        Assert.Contains(joiners, u => LastSignIn(u) is null);
        Assert.All(users, u => Assert.True(LastSignIn(u) is not { } last || last >= At(u["createdDateTime"])));
        // Service accounts carry no licence and rarely sign in; disabled accounts stopped signing in a while ago.
        Assert.InRange(users.Count(Service), 50, 200);
        Assert.All(users.Where(Service), u => Assert.Empty(u["assignedLicenses"]!.AsArray()));
        Assert.All(users.Where(Service), u => Assert.True(LastSignIn(u) is not { } last || last <= Now.AddDays(-60)));
        Assert.All(users.Where(u => !Enabled(u)), u => Assert.True(LastSignIn(u) is not { } last || last <= Now.AddDays(-60)));
        Assert.InRange(users.Count(u => !Enabled(u)), 50, 300);
        // Licences: several SKUs in use, and some members without any.
        var skus = members.SelectMany(u => u["assignedLicenses"]!.AsArray()).Select(l => l!["skuId"]!.GetValue<string>()).Distinct().Count();
        Assert.True(skus >= 5, $"{skus} SKUs in use");
        Assert.InRange(Share(members, u => u["assignedLicenses"]!.AsArray().Count == 0), 0.01, 0.08);
    }
}
