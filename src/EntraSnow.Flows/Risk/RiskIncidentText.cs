using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using EntraSnow.Connectors.Graph;

namespace EntraSnow.Flows.Risk;

/// <summary>
/// What the analyst reads (short description, description, work notes) and the marker every work note ends with:
/// <c>[entra-risk {detection id} {state} {last update}]</c>. The journal's markers are how the flow knows, from
/// ServiceNow itself, which detection states an incident already holds: nothing is written twice for one state.
/// </summary>
internal static partial class RiskIncidentText
{
    public const string CorrelationPrefix = "entra-risk:";

    private static readonly HashSet<string> ClosedStates = new(StringComparer.OrdinalIgnoreCase) { "dismissed", "remediated", "confirmedSafe" };

    public static bool IsClosed(string? riskState) => riskState is not null && ClosedStates.Contains(riskState);

    /// <summary><c>entra-risk:{user}:{first detection}</c>, within ServiceNow's 100 characters for correlation_id.</summary>
    public static string CorrelationId(RiskDetection detection) =>
        $"{UserPrefix(detection)}{(detection.Id.Length > 40 ? detection.Id[..40] : detection.Id)}";

    /// <summary>Every incident of one user starts with this.</summary>
    public static string UserPrefix(RiskDetection detection) => $"{CorrelationPrefix}{detection.UserId ?? "unknown-user"}:";

    public static string Marker(RiskDetection detection) =>
        $"[entra-risk {detection.Id} {detection.RiskState ?? "unknown"} {detection.UpdatedAt.UtcDateTime.ToString("yyyyMMddTHHmmssfffffff", CultureInfo.InvariantCulture)}]";

    /// <summary>The text to search the journal for: every detection marker.</summary>
    public const string AnyMarker = "[entra-risk ";

    /// <summary>The markers in journal entries, in the order given.</summary>
    public static IEnumerable<(string DetectionId, string State, string UpdatedAt)> Markers(IEnumerable<string> entries) =>
        entries.SelectMany(e => MarkerPattern().Matches(e)).Select(m => (m.Groups["id"].Value, m.Groups["state"].Value, m.Groups["at"].Value));

    public static string UserName(RiskDetection d) => d.UserPrincipalName ?? d.UserDisplayName ?? d.UserId ?? "an unknown user";

    public static string ShortDescription(RiskDetection d)
    {
        var text = $"Entra ID risk: {d.RiskEventType ?? "risk detection"} ({d.RiskLevel ?? "unknown"}) for {UserName(d)}";
        return text.Length <= 160 ? text : text[..160];
    }

    public static string Description(RiskDetection d, bool callerFound, string riskUrl)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Microsoft Entra ID Protection detected risk for {d.UserDisplayName ?? UserName(d)} ({d.UserPrincipalName ?? "no UPN"}, object id {d.UserId ?? "unknown"}).\n");
        if (!callerFound)
        {
            text.Append(CultureInfo.InvariantCulture, $"The user is not provisioned in ServiceNow (no sys_user with this Entra object id), so the caller is empty.\n");
        }

        text.Append('\n').Append(Details(d));
        text.Append(CultureInfo.InvariantCulture, $"\nThe user's risk in the Entra admin center: {riskUrl.Replace("{userId}", Uri.EscapeDataString(d.UserId ?? ""), StringComparison.Ordinal)}\n");
        text.Append("(Entra admin center > ID Protection > Risky users; search for the user's UPN or object id.)\n");
        text.Append("Later detections for this user are added as work notes; state changes (dismissed, remediated, confirmed safe) too.");
        return text.ToString();
    }

    public static string Details(RiskDetection d)
    {
        var text = new StringBuilder();
        void Line(string label, string? value) => text.Append(CultureInfo.InvariantCulture, $"{label}: {(string.IsNullOrEmpty(value) ? "-" : value)}\n");
        Line("Risk event type", d.RiskEventType);
        Line("Risk level", d.RiskLevel);
        Line("Risk state", d.RiskState);
        Line("Risk detail", d.RiskDetail);
        Line("Detection timing", d.DetectionTimingType);
        Line("Activity", d.Activity);
        Line("Source", d.Source);
        Line("IP address", d.IpAddress);
        Line("Location", d.Location);
        Line("Activity time", Time(d.ActivityDateTime));
        Line("Detected", Time(d.DetectedDateTime));
        Line("Detection id", d.Id);
        return text.ToString();
    }

    public static string OpeningNote(RiskDetection d, string? response) =>
        $"Risk detection {d.Id} opened this incident ({d.RiskEventType}, {d.RiskLevel}, {d.RiskState}).{Response(response)}\n{Marker(d)}";

    public static string AddedNote(RiskDetection d, string? response) =>
        $"Another risk detection for this user:\n{Details(d)}{Response(response)}\n{Marker(d)}";

    public static string StateNote(RiskDetection d) =>
        $"Risk detection {d.Id} ({d.RiskEventType}) is now {d.RiskState} (detail: {d.RiskDetail ?? "-"}) as of {Time(d.LastUpdatedDateTime ?? d.UpdatedAt)}.\n{Marker(d)}";

    public const string ResolutionNotes = "Every Entra ID risk detection in this incident is dismissed, remediated or confirmed safe (resolved by EntraSnow).";

    private static string Response(string? response) => response is null ? string.Empty : "\n" + response;

    private static string Time(DateTimeOffset? value) =>
        value is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "-";

    [GeneratedRegex(@"\[entra-risk (?<id>\S+) (?<state>\S+) (?<at>\d{8}T\d{13})\]")]
    private static partial Regex MarkerPattern();
}
