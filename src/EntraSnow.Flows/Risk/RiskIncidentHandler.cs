using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Risk;

/// <summary>
/// Consumer of <c>risk-detections</c>: a detection opens an incident for its user, or joins the user's open incident
/// from within the grouping window as a work note; a later state (dismissed, remediated, confirmed safe) is a work
/// note, and when every detection of an incident is closed the incident is resolved. ServiceNow's own journal says
/// what was already written (each work note carries the detection's marker), so redeliveries and re-polls write nothing.
/// The marker is looked up only in the work notes of the user's own incidents (their correlation_id starts with the
/// user's prefix), so its cost follows the user's incidents, not the whole journal. One user's messages share a session,
/// so the incident of one user is never looked up and created twice at once.
/// </summary>
internal sealed class RiskIncidentHandler(
    IServiceNowTable serviceNow,
    IServiceNowReferences references,
    RiskAssignmentGroup assignmentGroup,
    IDirectory directory,
    IMessageQueue queue,
    IOptions<RiskIncidentOptions> options,
    IOptions<ProvisioningOptions> provisioning,
    TimeProvider clock,
    ILogger<RiskIncidentHandler> logger) : IMessageHandler
{
    private const string JournalTable = "sys_journal_field";

    // Ids per journal query: an encoded query travels in the URL, so a user with hundreds of incidents costs a few reads.
    private const int IncidentsPerJournalQuery = 100;
    private static readonly string[] IncidentFields = ["sys_id", "number", "sys_created_on", "impact", "urgency", "state", "active"];

    public string Queue => QueueNames.RiskDetections;

    public async Task HandleAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = message.CorrelationId });
        try
        {
            await HandleDetectionAsync(RiskDetectionMessage.ToDetection(message), message, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && FailureTranslation.Translate(ex) is { } translated && translated != ex)
        {
            throw translated;
        }
    }

    private async Task HandleDetectionAsync(RiskDetection detection, ChangeMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var table = settings.IncidentTable;
        if (settings.ImpactAndUrgency(detection.RiskLevel) is not { } levels)
        {
            logger.LogInformation("Risk detection {DetectionId} for {UserId} has risk level {RiskLevel}: no incident", detection.Id, detection.UserId, detection.RiskLevel ?? "(none)");
            return;
        }

        // The user's incidents and every marker in their work notes: two reads answer whether this detection is recorded,
        // where, and (for a closing state) whether its incident's other detections are closed too.
        var incidents = await UserIncidentsAsync(table, detection, cancellationToken);
        var markers = await MarkersInAsync(table, incidents, cancellationToken);
        var recorded = markers.Where(m => m.DetectionId == detection.Id).ToList();
        if (recorded.Count > 0)
        {
            await RecordStateAsync(table, detection, recorded, markers, incidents, cancellationToken);
            return;
        }

        if (RiskIncidentText.IsClosed(detection.RiskState))
        {
            logger.LogInformation("Risk detection {DetectionId} for {UserId} was already {RiskState} when first seen: no incident", detection.Id, detection.UserId, detection.RiskState);
            return;
        }

        var caller = await CallerAsync(detection, message, settings, cancellationToken);
        var response = await RespondAsync(detection, settings, cancellationToken);
        var open = OpenIncident(table, incidents, settings);
        if (open is not null)
        {
            var fields = new Dictionary<string, string?> { ["work_notes"] = RiskIncidentText.AddedNote(detection, response) };
            if (string.CompareOrdinal(levels.Impact, open["impact"] ?? "3") < 0 || string.CompareOrdinal(levels.Urgency, open["urgency"] ?? "3") < 0)
            {
                // A more severe detection raises the incident to its level.
                fields["impact"] = Min(levels.Impact, open["impact"]);
                fields["urgency"] = Min(levels.Urgency, open["urgency"]);
            }

            await serviceNow.UpdateAsync(table.Name, open.SysId, fields, cancellationToken);
            logger.LogInformation("Risk detection {DetectionId} ({RiskLevel}) for {UserId} added to open incident {Number}", detection.Id, detection.RiskLevel, detection.UserId, open["number"]);
            return;
        }

        var record = new Dictionary<string, string?>
        {
            ["short_description"] = RiskIncidentText.ShortDescription(detection),
            ["description"] = RiskIncidentText.Description(detection, caller is not null, settings.UserRiskUrl),
            ["impact"] = levels.Impact,
            ["urgency"] = levels.Urgency,
            ["category"] = settings.Category,
            ["assignment_group"] = await AssignmentGroupAsync(cancellationToken),
            ["correlation_id"] = RiskIncidentText.CorrelationId(detection),
            ["correlation_display"] = "Entra ID Protection",
            ["work_notes"] = RiskIncidentText.OpeningNote(detection, response),
        };
        if (caller is not null)
        {
            record[table.CallerField] = caller;
        }

        var created = await serviceNow.CreateAsync(table.Name, record, cancellationToken);
        logger.LogInformation("Risk detection {DetectionId} ({RiskLevel}) for {UserId} opened incident {Number}{CallerNote}",
            detection.Id, detection.RiskLevel, detection.UserId, created["number"], caller is null ? " (user not provisioned: no caller)" : "");
    }

    /// <summary>A detection already in an incident: a new state is a work note, and may resolve the incident; the same or an older state writes nothing.</summary>
    private async Task RecordStateAsync(RiskIncidentTable table, RiskDetection detection, IReadOnlyList<JournalMarker> recorded,
        IReadOnlyList<JournalMarker> markers, IReadOnlyList<ServiceNowRecord> incidents, CancellationToken cancellationToken)
    {
        var latest = recorded.MaxBy(m => m.UpdatedAt, StringComparer.Ordinal)!;
        var updatedAt = detection.UpdatedAt.UtcDateTime.ToString("yyyyMMddTHHmmssfffffff", CultureInfo.InvariantCulture);
        if (string.CompareOrdinal(updatedAt, latest.UpdatedAt) <= 0 || latest.State == detection.RiskState)
        {
            logger.LogInformation("Risk detection {DetectionId} is already recorded as {RiskState} in its incident: nothing to write", detection.Id, latest.State);
            return;
        }

        var incidentId = latest.IncidentSysId;
        var fields = new Dictionary<string, string?> { ["work_notes"] = RiskIncidentText.StateNote(detection) };
        var settings = options.Value;
        var resolves = false;
        if (settings.ResolveWhenAllClosed && RiskIncidentText.IsClosed(detection.RiskState))
        {
            var states = markers.Where(m => m.IncidentSysId == incidentId).GroupBy(m => m.DetectionId)
                .ToDictionary(g => g.Key, g => g.MaxBy(m => m.UpdatedAt, StringComparer.Ordinal)!.State, StringComparer.Ordinal);
            states[detection.Id] = detection.RiskState!;
            var incident = incidents.FirstOrDefault(i => i.SysId == incidentId);
            resolves = states.Values.All(RiskIncidentText.IsClosed) && incident is not null && IsOpen(table, incident);
            if (resolves)
            {
                fields["state"] = table.ResolvedState;
                fields["close_code"] = settings.ResolutionCode;
                fields["close_notes"] = RiskIncidentText.ResolutionNotes;
            }
        }

        await serviceNow.UpdateAsync(table.Name, incidentId, fields, cancellationToken);
        logger.LogInformation("Risk detection {DetectionId} is now {RiskState}: work note added{Resolved}", detection.Id, detection.RiskState, resolves ? ", incident resolved (every detection closed)" : "");
    }

    /// <summary>The user's sys_user; with ProvisionUnknownCallers, a user not provisioned yet is provisioned first (the detection waits once).</summary>
    private async Task<string?> CallerAsync(RiskDetection detection, ChangeMessage message, RiskIncidentOptions settings, CancellationToken cancellationToken)
    {
        if (detection.UserId is null)
        {
            return null;
        }

        var sysId = await references.FindAsync("sys_user", provisioning.Value.ObjectIdField, detection.UserId, cancellationToken);
        if (!string.IsNullOrEmpty(sysId) || !settings.ProvisionUnknownCallers || message.Attempt > 0)
        {
            return sysId;
        }

        await queue.SendAsync(QueueNames.UserChanges,
        [
            new ChangeMessage
            {
                MessageId = $"risk-provision:{detection.UserId}:{detection.Id}",
                SessionKey = detection.UserId,
                Kind = MessageKinds.UserUpdated,
                TenantId = message.TenantId,
                SubjectId = detection.UserId,
                ChangedAt = clock.GetUtcNow(),
                CorrelationId = $"risk-{detection.Id}",
            },
        ], cancellationToken);
        throw new TransientFailureException($"User {detection.UserId} is not provisioned in ServiceNow yet; provisioning was requested", retryAfter: TimeSpan.FromSeconds(30));
    }

    private async Task<string?> RespondAsync(RiskDetection detection, RiskIncidentOptions settings, CancellationToken cancellationToken)
    {
        if (!settings.RevokeSessionsOnHighRisk || detection.UserId is null || !string.Equals(detection.RiskLevel, "high", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        // Revoking twice is harmless, so a retry after a failed ServiceNow write may do it again.
        await directory.RevokeSignInSessionsAsync(detection.UserId, cancellationToken);
        logger.LogWarning("Revoked the sign-in sessions of {UserId} after high risk detection {DetectionId}", detection.UserId, detection.Id);
        return $"EntraSnow revoked {RiskIncidentText.UserName(detection)}'s sign-in sessions at {clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)} (high risk).";
    }

    /// <summary>Every incident of the detection's user, newest first (a user has a handful; they are read in pages).</summary>
    private async Task<List<ServiceNowRecord>> UserIncidentsAsync(RiskIncidentTable table, RiskDetection detection, CancellationToken cancellationToken)
    {
        var query = EncodedQuery.Where("correlation_id", "STARTSWITH", RiskIncidentText.UserPrefix(detection)).OrderByDescending("sys_created_on");
        var incidents = new List<ServiceNowRecord>();
        await foreach (var incident in serviceNow.QueryAsync(table.Name, query, IncidentFields, cancellationToken))
        {
            incidents.Add(incident);
        }

        return incidents;
    }

    /// <summary>The user's newest incident that is still open, when it was opened within the grouping window; else null.</summary>
    private ServiceNowRecord? OpenIncident(RiskIncidentTable table, IReadOnlyList<ServiceNowRecord> incidents, RiskIncidentOptions settings)
    {
        var newest = incidents.FirstOrDefault(i => IsOpen(table, i));
        return newest is not null
            && DateTimeOffset.TryParse(newest["sys_created_on"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            && clock.GetUtcNow() - created <= settings.GroupingWindow
            ? newest
            : null;
    }

    /// <summary>The group's sys_id, resolved once per process (normally at start-up).</summary>
    private async Task<string> AssignmentGroupAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await assignmentGroup.SysIdAsync(cancellationToken);
        }
        catch (RiskAssignmentGroupMissingException ex)
        {
            logger.LogError("{Problem} Risk detections are dead-lettered until it is fixed; then replay the dead-letters", ex.Message);
            throw;
        }
    }

    /// <summary>Every detection marker in the work notes of <paramref name="incidents"/>; no call when there are none.</summary>
    private async Task<List<JournalMarker>> MarkersInAsync(RiskIncidentTable table, IReadOnlyList<ServiceNowRecord> incidents, CancellationToken cancellationToken)
    {
        var markers = new List<JournalMarker>();
        foreach (var chunk in incidents.Select(i => i.SysId).Chunk(IncidentsPerJournalQuery))
        {
            var query = EncodedQuery.Where("name", table.Name).And("element_id", "IN", string.Join(',', chunk))
                .And("element", "work_notes").And("value", "LIKE", RiskIncidentText.AnyMarker);
            await foreach (var entry in serviceNow.QueryAsync(JournalTable, query, ["element_id", "value"], cancellationToken))
            {
                markers.AddRange(RiskIncidentText.Markers([entry["value"] ?? ""])
                    .Select(m => new JournalMarker(entry["element_id"] ?? "", m.DetectionId, m.State, m.UpdatedAt)));
            }
        }

        return markers;
    }

    private static bool IsOpen(RiskIncidentTable table, ServiceNowRecord incident) =>
        incident["active"] != "false" && !table.DoneStates.Contains(incident["state"] ?? "");

    private static string Min(string a, string? b) => b is null || string.CompareOrdinal(a, b) < 0 ? a : b;

    private sealed record JournalMarker(string IncidentSysId, string DetectionId, string State, string UpdatedAt);
}
