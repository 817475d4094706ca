using System.Globalization;
using System.Text.Json.Nodes;
using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

/// <summary>
/// The sweep reads its directory pages without the SDK's models (see SweepPageJson): every account it reads must be the
/// account a read by id gives, plus what only the sweep asks for (last sign-in, creation date, licences, the service-account
/// attribute), or a reviewer would see other details than the rest of EntraSnow does.
/// </summary>
public sealed class SweepPageTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_sweeps_pages_read_each_account_as_a_read_by_id_does_with_sign_in_creation_licences_and_the_extra_attribute()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        var seeded = graph.Server.Seed(new GraphSeedSpec { Users = 700, Groups = 0, NeverSignedInPercent = 10, ReferenceTime = Now });
        var marked = seeded.UserIds[7];
        await graph.Emulator.ChangeUserAsync(marked, new JsonObject { ["extension_4f1c_costCenter"] = "CC-42" });
        // Cutoffs beyond every date: each account with a sign-in or a creation date is a candidate.
        var query = new InactiveCandidateQuery(DateTimeOffset.MaxValue, DateTimeOffset.MaxValue) { ExtraSelect = ["extension_4f1c_costCenter"] };

        var pages = await graph.Directory.GetInactiveCandidatesAsync(query, resumeFrom: null).ToListAsync();

        Assert.Equal([500, 200], pages.Select(p => p.Users.Count));
        Assert.NotNull(pages[0].Continuation);
        Assert.Null(pages[1].Continuation);
        var users = pages.SelectMany(p => p.Users).ToList();
        Assert.Equal(seeded.UserIds.Order(StringComparer.Ordinal), users.Select(u => u.Id).Order(StringComparer.Ordinal));
        Assert.Contains(users, u => u.AssignedSkuIds.Count > 0);
        Assert.Contains(users, u => u.LastSuccessfulSignIn is null);
        foreach (var user in users.Where((_, i) => i % 50 == 7).Append(users.Single(u => u.Id == marked)))
        {
            var byId = await graph.Directory.GetUserAsync(user.Id);
            var stored = graph.Emulator.GetUser(user.Id)!;
            Assert.Equal(Mapped(byId!), Mapped(user));
            Assert.Equal(Time(stored["signInActivity"]?["lastSuccessfulSignInDateTime"]), user.LastSuccessfulSignIn);
            Assert.Equal(Time(stored["createdDateTime"]), user.CreatedDateTime);
            Assert.Equal(stored["assignedLicenses"]?.AsArray().Select(l => l!["skuId"]!.GetValue<string>()) ?? [], user.AssignedSkuIds);
            Assert.Equal(stored["employeeType"]?.GetValue<string>(), user.EmployeeType);
        }

        Assert.Equal("CC-42", users.Single(u => u.Id == marked).Attribute("extension_4f1c_costCenter"));
    }

    /// <summary>The attributes provisioning maps (the manager comes with the review's details, not the page).</summary>
    private static string Mapped(DirectoryUser u) => string.Join(" | ", u.Id, u.UserPrincipalName, u.DisplayName, u.Mail, u.GivenName, u.Surname,
        u.JobTitle, u.Department, u.OfficeLocation, string.Join(",", u.BusinessPhones), u.MobilePhone, u.EmployeeId, u.UserType, u.AccountEnabled);

    private static DateTimeOffset? Time(JsonNode? node) =>
        node?.GetValue<string>() is { } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture) : null;
}
