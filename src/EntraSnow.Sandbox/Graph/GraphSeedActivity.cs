using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// A believable spread of activity for seeded users, from its own random sequence so ids, names and memberships stay
/// what they were: most members signed in within the last weeks and a tail has not for months; guests are less active;
/// a few new joiners were created days ago (some have not signed in yet); disabled accounts stopped signing in before
/// they were disabled; service accounts (<c>employeeType</c> <c>Service</c>, unlicensed) sign in rarely or never;
/// some members carry no licence.
/// </summary>
internal sealed class ActivitySpread(GraphSeedSpec spec, DateTimeOffset now)
{
    // Days since the last successful sign-in: (share in percent, from, to), members and guests.
    private static readonly (int Share, int From, int To)[] MemberRecency = [(70, 0, 7), (12, 7, 30), (8, 30, 90), (7, 90, 365), (3, 365, 730)];
    private static readonly (int Share, int From, int To)[] GuestRecency = [(30, 0, 30), (30, 30, 90), (25, 90, 365), (15, 365, 730)];

    private readonly Random _random = new(unchecked(spec.Seed * 17 + 3));

    public void Apply(JsonObject doc)
    {
        var guest = doc["userType"]?.GetValue<string>() == "Guest";
        var service = !guest && _random.Next(100) < spec.ServiceAccountPercent;
        var newJoiner = !service && doc["accountEnabled"]?.GetValue<bool>() != false && _random.Next(100) < spec.NewJoinerPercent;
        var created = newJoiner ? now.AddMinutes(-_random.Next(24 * 60, 45 * 24 * 60)) : Parse(doc["createdDateTime"]);
        doc["createdDateTime"] = GraphEmulator.Timestamp(created);
        doc["employeeType"] = guest ? null : service ? "Service" : _random.Next(100) < 10 ? "Contractor" : "Employee";
        if (service)
        {
            doc["jobTitle"] = "Service account";
            doc["assignedLicenses"] = new JsonArray();
        }
        else if (!guest && _random.Next(100) < 4)
        {
            doc["assignedLicenses"] = new JsonArray();
        }

        if (doc["signInActivity"] is not JsonObject signIn)
        {
            return;
        }

        // Half the service accounts, and many new joiners, have never signed in.
        if ((service && _random.Next(2) == 0) || (newJoiner && _random.Next(100) < 40))
        {
            doc.Remove("signInActivity");
            return;
        }

        var daysAgo = service || doc["accountEnabled"]?.GetValue<bool>() == false
            ? _random.Next(60, 700)
            : Pick(guest ? GuestRecency : MemberRecency);
        var last = now.AddMinutes(-(daysAgo * 24 * 60) - _random.Next(24 * 60));
        if (last < created)
        {
            last = created.AddMinutes(_random.Next(10, 24 * 60));
        }

        signIn["lastSignInDateTime"] = GraphEmulator.Timestamp(last);
        signIn["lastSuccessfulSignInDateTime"] = GraphEmulator.Timestamp(last);
        signIn["lastNonInteractiveSignInDateTime"] = GraphEmulator.Timestamp(last.AddHours(_random.Next(1, 48)) is var next && next < now ? next : now);
    }

    private int Pick((int Share, int From, int To)[] recency)
    {
        var roll = _random.Next(100);
        foreach (var (share, from, to) in recency)
        {
            if (roll < share)
            {
                return _random.Next(from, to);
            }

            roll -= share;
        }

        return recency[^1].From;
    }

    private static DateTimeOffset Parse(JsonNode? node) =>
        DateTimeOffset.Parse(node!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
}
