using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>What <see cref="GraphSeed"/> creates. The same spec (and seed) always yields the same directory.</summary>
public sealed record GraphSeedSpec
{
    public int Users { get; init; } = 100;

    public int Groups { get; init; } = 10;

    /// <summary>Each user joins this many distinct groups (at most <see cref="Groups"/>).</summary>
    public int GroupsPerUser { get; init; } = 2;

    public int RiskDetections { get; init; } = 20;

    /// <summary>Share of users that never signed in (no signInActivity), in percent.</summary>
    public int NeverSignedInPercent { get; init; } = 5;

    public int DisabledPercent { get; init; } = 3;

    /// <summary>Share of users that are guests (userType Guest, a #EXT# user principal name, no licence), in percent.</summary>
    public int GuestPercent { get; init; } = 5;

    /// <summary>Share of members that are service accounts (<c>employeeType</c> <c>Service</c>, no licence, rare or no sign-ins), in percent.</summary>
    public int ServiceAccountPercent { get; init; } = 2;

    /// <summary>Share of users created within the last 45 days (some have not signed in yet), in percent.</summary>
    public int NewJoinerPercent { get; init; } = 3;

    public int Seed { get; init; } = 42;

    public string Domain { get; init; } = "contoso.example";

    /// <summary>Sign-in, creation and detection times are spread over the time before this (default: the emulator's clock now).</summary>
    public DateTimeOffset? ReferenceTime { get; init; }
}

public sealed record GraphSeedResult(IReadOnlyList<string> UserIds, IReadOnlyList<string> GroupIds, int Memberships, int RiskDetections);

/// <summary>
/// Deterministic directory generator: users with the attributes EntraSnow maps, a manager chain, groups and
/// memberships, sign-in activity and risk detections. One transaction, prepared rows: 10,000 users take well under a second.
/// </summary>
public static class GraphSeed
{
    private static readonly string[] GivenNames =
        ["Adele", "Alex", "Diego", "Grady", "Henrietta", "Isaiah", "Johanna", "Joni", "Lee", "Lidia", "Lynne", "Megan", "Miriam", "Nestor", "Patti", "Pradeep"];

    private static readonly string[] Surnames =
        ["Vance", "Wilber", "Siciliani", "Archie", "Mueller", "Langer", "Lorenz", "Sherman", "Gu", "Holloway", "Robbins", "Bowen", "Graham", "Wilke", "Fernandez", "Gupta"];

    private static readonly string[] Departments = ["Retail", "Finance", "Engineering", "Sales", "Legal", "Operations", "HR", "Marketing"];

    private static readonly string[] Titles = ["Analyst", "Engineer", "Manager", "Specialist", "Director", "Consultant"];

    private static readonly string[] Offices = ["Seattle", "Rotterdam", "Singapore", "Austin", "Berlin"];

    private static readonly string[] RiskTypes = ["unfamiliarFeatures", "anonymizedIPAddress", "impossibleTravel", "leakedCredentials", "maliciousIPAddress"];

    private static readonly string[] RiskLevels = ["low", "medium", "high"];

    public static GraphSeedResult Generate(GraphEmulator emulator, GraphSeedSpec spec)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(spec.Users);
        ArgumentOutOfRangeException.ThrowIfNegative(spec.Groups);
        var random = new Random(spec.Seed);
        var licensing = new LicenceSpread(spec);
        var now = spec.ReferenceTime ?? emulator.Clock.GetUtcNow();
        var activity = new ActivitySpread(spec, now);
        var userIds = Enumerable.Range(0, spec.Users).Select(_ => NextGuid(random)).ToArray();
        var groupIds = Enumerable.Range(0, spec.Groups).Select(_ => NextGuid(random)).ToArray();
        var memberships = 0;
        var detections = 0;

        emulator.Store.InTransaction(s =>
        {
            for (var i = 0; i < userIds.Length; i++)
            {
                var given = GivenNames[random.Next(GivenNames.Length)];
                var surname = Surnames[random.Next(Surnames.Length)];
                var upn = $"{given}.{surname}{i}@{spec.Domain}".ToLowerInvariant();
                var created = now.AddDays(-random.Next(200, 2000));
                var doc = new JsonObject
                {
                    ["id"] = userIds[i],
                    ["userPrincipalName"] = upn,
                    ["displayName"] = $"{given} {surname}",
                    ["mail"] = upn,
                    ["givenName"] = given,
                    ["surname"] = surname,
                    ["jobTitle"] = Titles[random.Next(Titles.Length)],
                    ["department"] = Departments[random.Next(Departments.Length)],
                    ["officeLocation"] = Offices[random.Next(Offices.Length)],
                    ["businessPhones"] = new JsonArray($"+1 425 555 {random.Next(10000):D4}"),
                    ["mobilePhone"] = null,
                    ["employeeId"] = $"E-{i + 10000:D5}",
                    ["userType"] = "Member",
                    ["accountEnabled"] = random.Next(100) >= spec.DisabledPercent,
                    ["createdDateTime"] = GraphEmulator.Timestamp(created),
                    ["preferredLanguage"] = "en-US",
                };
                if (random.Next(100) >= spec.NeverSignedInPercent)
                {
                    var last = now.AddMinutes(-random.Next(0, 180 * 24 * 60));
                    var requestId = NextGuid(random);
                    doc["signInActivity"] = new JsonObject
                    {
                        ["lastSignInDateTime"] = GraphEmulator.Timestamp(last),
                        ["lastSignInRequestId"] = requestId,
                        ["lastNonInteractiveSignInDateTime"] = GraphEmulator.Timestamp(last.AddHours(random.Next(1, 48))),
                        ["lastNonInteractiveSignInRequestId"] = NextGuid(random),
                        ["lastSuccessfulSignInDateTime"] = GraphEmulator.Timestamp(last),
                        ["lastSuccessfulSignInRequestId"] = requestId,
                    };
                }

                licensing.Apply(doc);
                activity.Apply(doc);

                // A manager chain: every user but the first reports to someone created before them.
                var managerId = i == 0 ? null : userIds[random.Next(0, i) / 4];
                s.PutUser(userIds[i], doc, managerId, null, s.NextVersion());
            }

            for (var g = 0; g < groupIds.Length; g++)
            {
                var department = Departments[g % Departments.Length];
                s.PutGroup(groupIds[g], GraphEmulator.GroupDoc(groupIds[g], $"{department} Team {g + 1}", $"Members of {department} team {g + 1}"), null, s.NextVersion());
            }

            if (groupIds.Length > 0)
            {
                var perUser = Math.Min(spec.GroupsPerUser, groupIds.Length);
                foreach (var userId in userIds)
                {
                    var first = random.Next(groupIds.Length);
                    for (var k = 0; k < perUser; k++)
                    {
                        if (s.AddMember(groupIds[(first + k) % groupIds.Length], userId, s.NextVersion()))
                        {
                            memberships++;
                        }
                    }
                }
            }

            for (var r = 0; r < spec.RiskDetections && userIds.Length > 0; r++)
            {
                var i = random.Next(userIds.Length);
                var id = NextGuid(random).Replace("-", "", StringComparison.Ordinal) + NextGuid(random).Replace("-", "", StringComparison.Ordinal);
                var user = s.GetUser(userIds[i])!;
                s.PutRiskDetection(id, RiskDoc(id, userIds[i], user.Doc["userPrincipalName"]?.GetValue<string>(), user.Doc["displayName"]?.GetValue<string>(),
                    RiskTypes[random.Next(RiskTypes.Length)], RiskLevels[random.Next(RiskLevels.Length)],
                    now.AddMinutes(-random.Next(0, 7 * 24 * 60)), $"203.0.113.{random.Next(1, 255)}"));
                detections++;
            }

            return 0;
        });

        return new GraphSeedResult(userIds, groupIds, memberships, detections);
    }

    internal static JsonObject RiskDoc(string id, string userId, string? upn, string? displayName, string riskEventType, string riskLevel, DateTimeOffset detectedAt, string ipAddress) => new()
    {
        ["id"] = id,
        ["requestId"] = Guid.NewGuid().ToString(),
        ["correlationId"] = Guid.NewGuid().ToString(),
        ["riskEventType"] = riskEventType,
        ["riskState"] = "atRisk",
        ["riskLevel"] = riskLevel,
        ["riskDetail"] = "none",
        ["source"] = "IdentityProtection",
        ["detectionTimingType"] = "realtime",
        ["activity"] = "signin",
        ["tokenIssuerType"] = "AzureAD",
        ["ipAddress"] = ipAddress,
        ["activityDateTime"] = GraphEmulator.Timestamp(detectedAt.AddSeconds(-3)),
        ["detectedDateTime"] = GraphEmulator.Timestamp(detectedAt),
        ["lastUpdatedDateTime"] = GraphEmulator.Timestamp(detectedAt.AddMinutes(2)),
        ["userId"] = userId,
        ["userDisplayName"] = displayName,
        ["userPrincipalName"] = upn,
        ["additionalInfo"] = "[{\"Key\":\"userAgent\",\"Value\":\"Mozilla/5.0\"}]",
        ["location"] = new JsonObject
        {
            ["city"] = "Rotterdam",
            ["state"] = "Zuid-Holland",
            ["countryOrRegion"] = "NL",
            ["geoCoordinates"] = new JsonObject { ["latitude"] = 51.92, ["longitude"] = 4.48 },
        },
    };

    private static string NextGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4 shape
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}
