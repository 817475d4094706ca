using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// What a group's summary record says so far in one run: counts, the first members by name and who changed them, never
/// the members themselves. The record's words are rebuilt from it, so a page written twice says the same again.
/// </summary>
/// <param name="PageKey">The last page whose changes are counted in (a page written again is not counted twice).</param>
/// <param name="Earlier">Changes of the group the run recorded one by one before it passed the cap.</param>
/// <param name="Named">The lines naming members (at most <see cref="BulkChangeSummaries.Names"/>).</param>
/// <param name="Actors">Who made the named members' changes, as far as the audit log said when they were written.</param>
/// <param name="ObservedAt">When the run first passed the cap.</param>
/// <param name="SysId">The record, once created; null before (a tally saved without it may have a record: it is looked up).</param>
internal sealed record SummaryTally(string PageKey, int Earlier, int Added, int Removed, IReadOnlyList<string> Named, IReadOnlyList<string> Actors,
    DateTimeOffset ObservedAt, string? SysId = null, string? Number = null);

/// <summary>
/// The one summary record a group gets per run once the run's changes of it pass
/// <see cref="GroupChangeOptions.MaxRecordsPerGroupPerRun"/>: created on the page that passes the cap and brought up to
/// date by each later page that changes the group, so a group whose members Graph spreads over many pages still gets one
/// record and nobody holds its thousands of members. The tally (<see cref="SummaryTally"/>) is a checkpoint per run and
/// group, saved before the ServiceNow write and forgotten when the run is done; a run that never gets done (its message
/// dead-lettered) leaves its tallies to retention (<see cref="Retention.DeletedObjects.PurgeFinishedSyncRunsAsync"/>); its
/// dead letter may be replayed after that, and then looks its record up instead (<see cref="TallyMayBePurged"/>).
/// </summary>
internal sealed class BulkChangeSummaries(IServiceNowTable serviceNow, ICheckpointStore checkpoints, ILogger<BulkChangeSummaries> logger)
{
    /// <summary>How many members a summary names; the rest are counted (a description holds about 4,000 characters).</summary>
    public const int Names = 40;

    internal const string KeyPrefix = "groupsummary:";

    /// <summary>
    /// How long a tally is surely kept: retention deletes the tallies of runs that never got done once
    /// <see cref="Retention.RetentionOptions.DeletedObjects"/> (30 days at least) has passed since their last write, less a
    /// day for clocks that differ between instances.
    /// </summary>
    internal static readonly TimeSpan TalliesKeptAtLeast = Retention.RetentionOptions.ShortestDeletedObjects - TimeSpan.FromDays(1);

    /// <summary>
    /// Whether the tallies of <paramref name="message"/>'s run may have been deleted by retention: a message made longer
    /// ago than <see cref="TalliesKeptAtLeast"/> (a dead letter replayed late; a replay keeps the message's time). A tally
    /// is written while its message is handled, so after the message was made: a younger message's tallies are all there.
    /// </summary>
    public static bool TallyMayBePurged(Messaging.ChangeMessage message, DateTimeOffset now) => message.ChangedAt < now - TalliesKeptAtLeast;

    public static string CorrelationId(string groupId, string runKey) => CorrelationIdOfRun(groupId, RunHash(runKey));

    /// <summary>The correlation id of the group's summary in the run whose <see cref="RunHash"/> this is.</summary>
    public static string CorrelationIdOfRun(string groupId, string runHash) =>
        $"{MembershipChangeRecorder.CorrelationPrefix}{groupId.ToLowerInvariant()}:bulk:{runHash}";

    public async Task<SummaryTally?> LoadAsync(string runKey, string groupId, CancellationToken cancellationToken) =>
        await checkpoints.GetAsync(Key(runKey, groupId), cancellationToken) is { Length: > 0 } json ? JsonSerializer.Deserialize<SummaryTally>(json) : null;

    /// <summary>Saves the tally before the record is written: a run that dies after the write finds both again.</summary>
    public Task SaveAsync(string runKey, string groupId, SummaryTally tally, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(Key(runKey, groupId), JsonSerializer.Serialize(tally), cancellationToken);

    /// <summary>
    /// Writes the record as <paramref name="tally"/> says: created the first time (looked up by correlation id first only
    /// when <paramref name="triedBefore"/>, a tally saved by a run that may have died after its create), updated after,
    /// keeping an actor a follow-up wrote in meanwhile. Returns the tally with the record's sys_id, and whether it was created.
    /// </summary>
    public async Task<(SummaryTally Tally, bool Created)> WriteAsync(string runKey, string groupId, SummaryTally tally, bool triedBefore,
        Dictionary<string, string?> fields, CancellationToken cancellationToken)
    {
        var correlationId = CorrelationId(groupId, runKey);
        if (tally.SysId is { } sysId)
        {
            var description = fields["description"]!;
            if (tally.Actors.Count == 0
                && await serviceNow.GetAsync(MembershipChangeRecorder.Table, sysId, ["description"], cancellationToken) is { } current
                && ChangeRequestText.NamedActor(current["description"]) is { } actor)
            {
                description = ChangeRequestText.WithActor(description, actor) ?? description;
            }

            await serviceNow.UpdateAsync(MembershipChangeRecorder.Table, sysId, new Dictionary<string, string?>
            {
                ["short_description"] = fields["short_description"],
                ["description"] = description,
            }, cancellationToken);
            logger.LogInformation("Change {Number} now summarises {Count} membership changes of group {GroupId}", tally.Number, tally.Added + tally.Removed, groupId);
            return (tally, false);
        }

        var found = triedBefore
            ? await serviceNow.FindAsync(MembershipChangeRecorder.Table, EncodedQuery.Where("correlation_id", correlationId), ["sys_id", "number"], cancellationToken)
            : null;
        var record = found ?? await serviceNow.CreateAsync(MembershipChangeRecorder.Table, fields, cancellationToken);
        tally = tally with { SysId = record.SysId, Number = record["number"] };
        await SaveAsync(runKey, groupId, tally, cancellationToken);
        if (found is null)
        {
            logger.LogInformation("Change {Number} records {Count} membership changes of group {GroupId} at once", tally.Number, tally.Added + tally.Removed, groupId);
        }

        return (tally, found is null);
    }

    /// <summary>Forgets the run's tallies once the run is done (its summaries are complete).</summary>
    public async Task ForgetRunAsync(string runKey, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var checkpoint in checkpoints.ListAsync(RunPrefix(runKey), cancellationToken))
        {
            keys.Add(checkpoint.Key);
        }

        foreach (var key in keys)
        {
            await checkpoints.DeleteAsync(key, cancellationToken);
        }
    }

    /// <summary>The start of every key of the run's tallies.</summary>
    internal static string RunPrefix(string runKey) => $"{KeyPrefix}{RunHash(runKey)}:";

    private static string Key(string runKey, string groupId) => RunPrefix(runKey) + groupId.ToLowerInvariant();

    /// <summary>What a run's summaries are known by in their correlation ids, tally keys and ledger notes.</summary>
    internal static string RunHash(string runKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runKey)))[..16];
}
