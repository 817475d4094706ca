using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace EntraSnow.Flows.Risk;

/// <summary>Settings under <c>Risk:Incident</c>: how a risk detection becomes a ServiceNow incident. Validated at start-up.</summary>
public sealed class RiskIncidentOptions : IValidatableObject
{
    public const string Section = "Risk:Incident";

    /// <summary><c>incident</c>, or <c>sn_si_incident</c> where Security Incident Response is installed.</summary>
    public string Table { get; set; } = RiskIncidentTable.Incident.Name;

    public string Category { get; set; } = "security";

    /// <summary>
    /// The <c>sys_user_group</c> (name or sys_id) the incidents are assigned to; resolved once, when the host has started
    /// (<see cref="RiskSettingsCheck"/>): a group ServiceNow does not have stops the start naming this setting.
    /// </summary>
    public string AssignmentGroup { get; set; } = "Security Operations";

    /// <summary>
    /// Impact/urgency per Graph risk level, as <c>impact/urgency</c> (1 high … 3 low). Levels not listed (by default
    /// <c>none</c> and <c>hidden</c>) open no incident. (No default values here: the binder would merge into them.)
    /// </summary>
    public Dictionary<string, string> ImpactUrgency { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    private static readonly Dictionary<string, string> DefaultImpactUrgency = new(StringComparer.OrdinalIgnoreCase)
    {
        ["high"] = "1/1",
        ["medium"] = "2/2",
        ["low"] = "3/3",
    };

    /// <summary>A user's detections arriving within this long of their open incident's creation are added to it as work notes.</summary>
    [TimeSpanRange("00:00:00", "30.00:00:00")]
    public TimeSpan GroupingWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Resolve an incident when every detection in it is dismissed, remediated or confirmed safe.</summary>
    public bool ResolveWhenAllClosed { get; set; } = true;

    public string ResolutionCode { get; set; } = "Solution provided";

    /// <summary>A user with no sys_user yet is provisioned first (the detection waits for it once); otherwise the caller stays empty.</summary>
    public bool ProvisionUnknownCallers { get; set; }

    /// <summary>For a high-risk detection, revoke the user's sign-in sessions and say so in the incident (needs User.RevokeSessions.All).</summary>
    public bool RevokeSessionsOnHighRisk { get; set; }

    /// <summary>
    /// The analyst's link to the user's risk in the Entra admin center; <c>{userId}</c> is replaced with the object id.
    /// What it is based on: Microsoft's documentation (learn.microsoft.com, "Risky user report" in Entra ID Protection)
    /// names the report and its place in the admin center (Entra admin center, ID Protection, Risky users, where
    /// selecting a user opens their risk details and history) but publishes no URL format for it. The admin center
    /// serves that report as the view <c>#view/Microsoft_AAD_IAM/RiskyUsersBlade</c> of https://entra.microsoft.com; the
    /// trailing <c>/userId/{id}</c> view parameter is the form integrations use to open it on one user, undocumented.
    /// Hence a setting (a portal change, or a sovereign cloud's admin center, is a configuration change), and the
    /// description also gives the report's path and the user's object id and UPN, which still find the user if the
    /// admin center ignores the parameter.
    /// </summary>
    public string UserRiskUrl { get; set; } = "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/RiskyUsersBlade/userId/{userId}";

    /// <summary>The configured map, or the default one when none is configured.</summary>
    public IReadOnlyDictionary<string, string> EffectiveImpactUrgency => ImpactUrgency.Count > 0 ? ImpactUrgency : DefaultImpactUrgency;

    public RiskIncidentTable IncidentTable => RiskIncidentTable.Of(Table) ?? RiskIncidentTable.Incident;

    /// <summary>Impact and urgency for a risk level, or null when the level opens no incident.</summary>
    public (string Impact, string Urgency)? ImpactAndUrgency(string? riskLevel) =>
        riskLevel is not null && EffectiveImpactUrgency.TryGetValue(riskLevel, out var pair) && Parse(pair) is { } parsed ? parsed : null;

    private static (string, string)? Parse(string pair)
    {
        var parts = pair.Split('/', StringSplitOptions.TrimEntries);
        return parts.Length == 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 3)
            ? (parts[0], parts[1])
            : null;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RiskIncidentTable.Of(Table) is null)
        {
            yield return new ValidationResult($"{Section}:Table must be 'incident' or 'sn_si_incident', not '{Table}'.", [nameof(Table)]);
        }

        if (string.IsNullOrWhiteSpace(AssignmentGroup))
        {
            yield return new ValidationResult($"{Section}:AssignmentGroup is required: the sys_user_group (name or sys_id) risk incidents are assigned to.", [nameof(AssignmentGroup)]);
        }

        if (string.IsNullOrWhiteSpace(Category))
        {
            yield return new ValidationResult($"{Section}:Category is required.", [nameof(Category)]);
        }

        foreach (var (level, pair) in ImpactUrgency.Where(p => Parse(p.Value) is null))
        {
            yield return new ValidationResult($"{Section}:ImpactUrgency:{level} must be impact/urgency, each 1 to 3 (e.g. '1/1'), not '{pair}'.", [nameof(ImpactUrgency)]);
        }

        if (!UserRiskUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"{Section}:UserRiskUrl must be an https URL.", [nameof(UserRiskUrl)]);
        }
    }
}

/// <summary>What differs between the incident tables: who the incident is about, and which states mean done.</summary>
public sealed record RiskIncidentTable(string Name, string CallerField, string ResolvedState, IReadOnlyList<string> DoneStates)
{
    public static RiskIncidentTable Incident { get; } = new("incident", "caller_id", "6", ["6", "7", "8"]);

    /// <summary>Security Incident Response: the affected user, and Closed (3) / Cancelled (7).</summary>
    public static RiskIncidentTable SecurityIncident { get; } = new("sn_si_incident", "affected_user", "3", ["3", "7"]);

    public static RiskIncidentTable? Of(string? name) => name switch
    {
        "incident" => Incident,
        "sn_si_incident" => SecurityIncident,
        _ => null,
    };
}
