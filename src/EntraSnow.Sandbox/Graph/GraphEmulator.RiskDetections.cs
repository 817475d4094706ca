using System.Globalization;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>Risk detections as Identity Protection keeps them: created at risk, later dismissed, remediated or confirmed.</summary>
public sealed partial class GraphEmulator
{
    private static readonly string[] RiskLevels = ["low", "medium", "high", "hidden", "none"];

    private static readonly Dictionary<string, string> DetailOfState = new(StringComparer.Ordinal)
    {
        ["atRisk"] = "none",
        ["confirmedCompromised"] = "adminConfirmedUserCompromised",
        ["dismissed"] = "adminDismissedAllRiskForUser",
        ["remediated"] = "userPerformedSecuredPasswordChange",
        ["confirmedSafe"] = "adminConfirmedSigninSafe",
        ["none"] = "none",
    };

    /// <summary>A new detection at risk, detected and last updated now; null when there is no such user.</summary>
    /// <exception cref="ArgumentException">A risk level Graph does not have.</exception>
    public JsonObject? CreateRiskDetection(string userId, string riskLevel, string riskEventType, string? ipAddress = null)
    {
        if (!RiskLevels.Contains(riskLevel, StringComparer.Ordinal))
        {
            throw new ArgumentException($"riskLevel must be one of {string.Join(", ", RiskLevels)}.", nameof(riskLevel));
        }

        var now = Clock.GetUtcNow();
        var id = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        return Store.InTransaction(s =>
        {
            if (s.GetUser(userId) is not { Removed: null } user)
            {
                return null;
            }

            var doc = GraphSeed.RiskDoc(id, userId, user.Doc["userPrincipalName"]?.GetValue<string>(), user.Doc["displayName"]?.GetValue<string>(),
                riskEventType, riskLevel, now, ipAddress ?? "203.0.113.47");
            doc["lastUpdatedDateTime"] = Timestamp(now);
            s.PutRiskDetection(id, doc);
            return (JsonObject)doc.DeepClone();
        });
    }

    /// <summary>
    /// Moves a detection to another state (dismissed, remediated, confirmedSafe, confirmedCompromised, atRisk), with the
    /// detail Graph reports for it and a later lastUpdatedDateTime; null when there is no such detection.
    /// </summary>
    /// <exception cref="ArgumentException">A risk state Graph does not have.</exception>
    public JsonObject? ChangeRiskState(string detectionId, string riskState)
    {
        if (!DetailOfState.TryGetValue(riskState, out var detail))
        {
            throw new ArgumentException($"riskState must be one of {string.Join(", ", DetailOfState.Keys)}.", nameof(riskState));
        }

        return Store.InTransaction(s =>
        {
            if (s.GetRiskDetection(detectionId) is not { } doc)
            {
                return null;
            }

            // Never earlier than the last update: a seeded detection may carry one a little in the future.
            var previous = DateTimeOffset.Parse(doc["lastUpdatedDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
            var now = Clock.GetUtcNow();
            doc["riskState"] = riskState;
            doc["riskDetail"] = detail;
            doc["lastUpdatedDateTime"] = Timestamp(now > previous ? now : previous.AddSeconds(1));
            s.PutRiskDetection(detectionId, doc);
            return (JsonObject)doc.DeepClone();
        });
    }
}
