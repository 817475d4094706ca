using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;

namespace EntraSnow.Flows.Risk;

/// <summary>
/// A risk detection on the <c>risk-detections</c> queue. Graph allows one Identity Protection request a second, so the
/// detection travels whole in the message (its facts, never a secret) instead of being read again by the consumer.
/// </summary>
internal static class RiskDetectionMessage
{
    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ss.fffffffZ";

    /// <summary>
    /// The detection id and the time it last changed: a redelivery or a second poll of the same state is the same
    /// message (duplicate detection drops it), a later state change (dismissed, remediated) is a new one.
    /// </summary>
    public static string MessageId(RiskDetection detection) =>
        $"risk:{detection.Id}:{detection.UpdatedAt.UtcDateTime.ToString("yyyyMMddTHHmmssfffffff", CultureInfo.InvariantCulture)}";

    public static ChangeMessage From(RiskDetection detection, string tenantId)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        void Put(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                properties[name] = value;
            }
        }

        Put("userPrincipalName", detection.UserPrincipalName);
        Put("userDisplayName", detection.UserDisplayName);
        Put("riskEventType", detection.RiskEventType);
        Put("riskLevel", detection.RiskLevel);
        Put("riskState", detection.RiskState);
        Put("riskDetail", detection.RiskDetail);
        Put("detectionTimingType", detection.DetectionTimingType);
        Put("activity", detection.Activity);
        Put("source", detection.Source);
        Put("ipAddress", detection.IpAddress);
        Put("location", detection.Location);
        Put("activityDateTime", Time(detection.ActivityDateTime));
        Put("detectedDateTime", Time(detection.DetectedDateTime));
        Put("lastUpdatedDateTime", Time(detection.LastUpdatedDateTime));

        return new ChangeMessage
        {
            MessageId = MessageId(detection),
            // One user's detections one at a time: they share an incident.
            SessionKey = detection.UserId ?? detection.Id,
            Kind = MessageKinds.RiskDetection,
            TenantId = tenantId,
            SubjectId = detection.Id,
            ChangedAt = detection.UpdatedAt,
            CorrelationId = $"risk-{detection.Id}",
            Properties = properties,
        };
    }

    /// <summary>The detection back from a message; the user id is the session key.</summary>
    public static RiskDetection ToDetection(ChangeMessage message) => new()
    {
        Id = message.SubjectId,
        UserId = message.SessionKey == message.SubjectId ? null : message.SessionKey,
        UserPrincipalName = message.Property("userPrincipalName"),
        UserDisplayName = message.Property("userDisplayName"),
        RiskEventType = message.Property("riskEventType"),
        RiskLevel = message.Property("riskLevel"),
        RiskState = message.Property("riskState"),
        RiskDetail = message.Property("riskDetail"),
        DetectionTimingType = message.Property("detectionTimingType"),
        Activity = message.Property("activity"),
        Source = message.Property("source"),
        IpAddress = message.Property("ipAddress"),
        Location = message.Property("location"),
        ActivityDateTime = ParseTime(message.Property("activityDateTime")),
        DetectedDateTime = ParseTime(message.Property("detectedDateTime")) ?? message.ChangedAt,
        LastUpdatedDateTime = ParseTime(message.Property("lastUpdatedDateTime")),
    };

    private static string? Time(DateTimeOffset? value) => value?.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset? ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
}
