using System.Globalization;
using EntraSnow.Connectors.Graph;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>An account put in front of a reviewer, with what they need to decide.</summary>
public sealed record InactiveAccount(DirectoryUser User, SweepVerdict Verdict, ReviewDetails? Details, IReadOnlyList<string> Licences)
{
    public string Name => User.UserPrincipalName ?? User.DisplayName ?? User.Id;

    public string LastSignInText => User.LastSuccessfulSignIn is { } last ? Day(last) : "never";

    public string CreatedText => User.CreatedDateTime is { } created ? Day(created) : "unknown";

    public string ManagerText => Details?.ManagerName ?? "none";

    public string Reason(DateTimeOffset now) => Verdict == SweepVerdict.NeverSignedIn
        ? $"never signed in; created {(int)(now - (User.CreatedDateTime ?? now)).TotalDays} days ago"
        : $"no successful sign-in for {(int)(now - (User.LastSuccessfulSignIn ?? now)).TotalDays} days";

    /// <summary>The lines a reviewer reads, on a task or in a review request.</summary>
    public IEnumerable<string> Describe(DateTimeOffset now)
    {
        yield return $"Account: {User.DisplayName} ({Name}), object id {User.Id}{(string.Equals(User.UserType, "Guest", StringComparison.OrdinalIgnoreCase) ? ", guest" : "")}";
        yield return $"Why: {Reason(now)}";
        yield return $"Manager: {ManagerText}";
        yield return $"Last successful sign-in: {LastSignInText}";
        yield return $"Created: {CreatedText}";
        yield return $"Licences: {(Licences.Count == 0 ? "none" : string.Join(", ", Licences))}";
        yield return $"Groups: {Details?.GroupCount.ToString(CultureInfo.InvariantCulture) ?? "unknown"}";
    }

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
