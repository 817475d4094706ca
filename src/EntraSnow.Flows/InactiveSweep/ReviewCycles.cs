using System.Globalization;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>The review cycle an instant falls in, as it appears in correlation ids: <c>2026-W49</c>, <c>2026-12</c>, <c>2026-Q4</c> (UTC).</summary>
public static class ReviewCycles
{
    public static string IdOf(ReviewCycle cycle, DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return cycle switch
        {
            ReviewCycle.Weekly => $"{ISOWeek.GetYear(utc)}-W{ISOWeek.GetWeekOfYear(utc):D2}",
            ReviewCycle.Quarterly => $"{utc.Year}-Q{((utc.Month - 1) / 3) + 1}",
            _ => utc.ToString("yyyy-MM", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The cycle before the one <paramref name="at"/> falls in.</summary>
    public static string PreviousIdOf(ReviewCycle cycle, DateTimeOffset at) => IdOf(cycle, cycle switch
    {
        ReviewCycle.Weekly => at.AddDays(-7),
        ReviewCycle.Quarterly => at.AddMonths(-3),
        _ => at.AddMonths(-1),
    });
}
