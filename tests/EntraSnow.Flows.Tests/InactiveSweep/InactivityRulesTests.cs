using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.InactiveSweep;

namespace EntraSnow.Flows.Tests.InactiveSweep;

public sealed class InactivityRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);

    private static DirectoryUser User(string id = "u1", int? lastSignInDaysAgo = null, int createdDaysAgo = 400, string userType = "Member", bool enabled = true) => new()
    {
        Id = id,
        UserPrincipalName = $"{id}@contoso.example",
        UserType = userType,
        AccountEnabled = enabled,
        LastSuccessfulSignIn = lastSignInDaysAgo is { } days ? Now.AddDays(-days) : null,
        CreatedDateTime = Now.AddDays(-createdDaysAgo),
    };

    private static InactivityRules Rules(InactiveSweepOptions? options = null, params string[] breakGlass) =>
        new(options ?? new InactiveSweepOptions(), Now, new HashSet<string>(breakGlass, StringComparer.OrdinalIgnoreCase));

    [Theory]
    [InlineData(91, SweepVerdict.NotSignedInSince)]
    [InlineData(90, SweepVerdict.NotSignedInSince)]
    [InlineData(89, SweepVerdict.Active)]
    public void Accounts_are_reviewed_once_their_last_sign_in_is_90_days_old(int daysAgo, SweepVerdict expected) =>
        Assert.Equal(expected, Rules().Judge(User(lastSignInDaysAgo: daysAgo)));

    [Theory]
    [InlineData(31, SweepVerdict.NeverSignedIn)]
    [InlineData(29, SweepVerdict.Active)]
    public void Accounts_that_never_signed_in_are_reviewed_once_30_days_old(int createdDaysAgo, SweepVerdict expected) =>
        Assert.Equal(expected, Rules().Judge(User(createdDaysAgo: createdDaysAgo)));

    [Fact]
    public void Break_glass_members_are_left_out_before_any_other_rule() =>
        Assert.Equal(SweepVerdict.BreakGlass, Rules(null, "BG1").Judge(User("bg1", enabled: false)));

    [Fact]
    public void Disabled_accounts_are_left_out() =>
        Assert.Equal(SweepVerdict.Disabled, Rules().Judge(User(lastSignInDaysAgo: 200, enabled: false)));

    [Fact]
    public void Service_accounts_are_recognised_by_the_configured_attribute_and_value_ignoring_case()
    {
        var rules = Rules(new InactiveSweepOptions { ServiceAccountAttribute = "employeeType", ServiceAccountValue = "service" });

        Assert.Equal(SweepVerdict.ServiceAccount, rules.Judge(User(lastSignInDaysAgo: 200) with { EmployeeType = "Service" }));
        Assert.Equal(SweepVerdict.NotSignedInSince, rules.Judge(User(lastSignInDaysAgo: 200) with { EmployeeType = "Employee" }));
    }

    [Fact]
    public void Guests_follow_the_guest_policy()
    {
        var guest = User(lastSignInDaysAgo: 40, userType: "Guest");

        Assert.Equal(SweepVerdict.Active, Rules(new InactiveSweepOptions { Guests = GuestPolicy.Include }).Judge(guest));
        Assert.Equal(SweepVerdict.Guest, Rules(new InactiveSweepOptions { Guests = GuestPolicy.Exclude }).Judge(guest with { LastSuccessfulSignIn = Now.AddDays(-300) }));
        Assert.Equal(SweepVerdict.NotSignedInSince, Rules(new InactiveSweepOptions { Guests = GuestPolicy.OwnThreshold, GuestInactiveDays = 30 }).Judge(guest));
    }

    [Fact]
    public void Graph_is_asked_for_the_shorter_of_the_member_and_guest_thresholds()
    {
        Assert.Equal(Now.AddDays(-90), Rules().SignedInBefore);
        Assert.Equal(Now.AddDays(-30), Rules(new InactiveSweepOptions { Guests = GuestPolicy.OwnThreshold, GuestInactiveDays = 30 }).SignedInBefore);
        Assert.Equal(Now.AddDays(-30), Rules().CreatedBefore);
    }

    [Fact]
    public void An_account_under_review_that_signed_in_within_its_threshold_has_signed_in_again()
    {
        Assert.True(Rules().SignedInAgain(User(lastSignInDaysAgo: 1)));
        Assert.False(Rules().SignedInAgain(User(lastSignInDaysAgo: 120)));
        Assert.False(Rules().SignedInAgain(User()));
    }

    [Theory]
    [InlineData(ReviewCycle.Monthly, "2026-12")]
    [InlineData(ReviewCycle.Quarterly, "2026-Q4")]
    [InlineData(ReviewCycle.Weekly, "2026-W49")]
    public void Review_cycles_are_named_by_their_calendar_period(ReviewCycle cycle, string expected) =>
        Assert.Equal(expected, ReviewCycles.IdOf(cycle, Now));
}
