using EntraSnow.Connectors.Graph;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>Why an account is, or is not, put in front of a reviewer.</summary>
public enum SweepVerdict
{
    NotSignedInSince,
    NeverSignedIn,
    Active,
    BreakGlass,
    ServiceAccount,
    Guest,
    Disabled,
}

/// <summary>
/// The sweep's rules for one account, given the instant the run started. Break-glass membership is checked first so
/// nothing later can let such an account through.
/// </summary>
public sealed class InactivityRules(InactiveSweepOptions options, DateTimeOffset now, IReadOnlySet<string> breakGlassMembers)
{
    /// <summary>The earliest last sign-in that still counts as active, for any account: what Graph is asked for.</summary>
    public DateTimeOffset SignedInBefore => now.AddDays(-Math.Min(options.InactiveDays, options.Guests == GuestPolicy.OwnThreshold ? options.GuestInactiveDays : options.InactiveDays));

    public DateTimeOffset CreatedBefore => now.AddDays(-options.NeverSignedInDays);

    /// <summary>Attributes the rules read beyond the usual ones.</summary>
    public IReadOnlyList<string> ExtraAttributes =>
        string.IsNullOrWhiteSpace(options.ServiceAccountAttribute) ? [] : [options.ServiceAccountAttribute];

    public bool IsBreakGlass(string userId) => breakGlassMembers.Contains(userId);

    public SweepVerdict Judge(DirectoryUser user)
    {
        if (IsBreakGlass(user.Id))
        {
            return SweepVerdict.BreakGlass;
        }

        if (user.AccountEnabled == false)
        {
            return SweepVerdict.Disabled;
        }

        if (!string.IsNullOrWhiteSpace(options.ServiceAccountAttribute)
            && string.Equals(user.Attribute(options.ServiceAccountAttribute), options.ServiceAccountValue, StringComparison.OrdinalIgnoreCase))
        {
            return SweepVerdict.ServiceAccount;
        }

        var guest = string.Equals(user.UserType, "Guest", StringComparison.OrdinalIgnoreCase);
        if (guest && options.Guests == GuestPolicy.Exclude)
        {
            return SweepVerdict.Guest;
        }

        if (user.LastSuccessfulSignIn is { } last)
        {
            var days = guest && options.Guests == GuestPolicy.OwnThreshold ? options.GuestInactiveDays : options.InactiveDays;
            return last <= now.AddDays(-days) ? SweepVerdict.NotSignedInSince : SweepVerdict.Active;
        }

        return user.CreatedDateTime is { } created && created <= CreatedBefore ? SweepVerdict.NeverSignedIn : SweepVerdict.Active;
    }

    /// <summary>True when an account under review has signed in within its threshold since.</summary>
    public bool SignedInAgain(DirectoryUser user) =>
        user.LastSuccessfulSignIn is { } last && last > now.AddDays(-ThresholdDays(user));

    private int ThresholdDays(DirectoryUser user) =>
        string.Equals(user.UserType, "Guest", StringComparison.OrdinalIgnoreCase) && options.Guests == GuestPolicy.OwnThreshold
            ? options.GuestInactiveDays
            : options.InactiveDays;
}
