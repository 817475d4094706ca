using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>
/// One sweep: pages of candidates from Graph (never the whole directory in memory), the rules, then the inactive accounts
/// gathered across pages (<see cref="GatheredAccounts"/>) and raised a Graph call's worth of reviewer details at a time: a
/// lookup of the cycle's existing reviews before anything is written, the details, the new reviews. A page's continuation
/// is checkpointed once all its accounts are raised, so a run cut off anywhere resumes at the first page it had not
/// finished and the lookup skips what it had already raised. Afterwards the open reviews are followed up
/// (<see cref="OpenReviewFollowUp"/>): closed when the account signed in again; with
/// <see cref="InactiveSweepOptions.DisableAccounts"/>, approved or expired ones disable the account.
/// </summary>
public sealed class InactiveSweepRunner(
    IDirectory directory,
    IServiceNowTable serviceNow,
    ReviewAssignmentGroup assignmentGroup,
    ICheckpointStore checkpoints,
    IOptions<InactiveSweepOptions> options,
    TimeProvider clock,
    ILogger<InactiveSweepRunner> logger)
{
    public const string CheckpointKey = "inactive-sweep:current";

    private sealed record Checkpoint(string RunId, string Cycle, DateTimeOffset StartedAt, string? Continuation);

    public async Task<SweepReport> RunAsync(SweepRunRequest? request = null, CancellationToken cancellationToken = default)
    {
        request ??= new SweepRunRequest();
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var cycle = ReviewCycles.IdOf(settings.Cycle, now);
        var groupSysId = await assignmentGroup.SysIdAsync(cancellationToken);
        var stored = request.DryRun ? null : await ReadCheckpointAsync(cancellationToken);
        var resume = stored is not null && stored.Cycle == cycle ? stored : null;
        var run = resume ?? new Checkpoint($"sweep-{now:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..8]}", cycle, now, null);
        using var scope = logger.BeginScope("inactive sweep correlation {CorrelationId}", run.RunId);
        logger.LogInformation("{Mode} inactive sweep {RunId} for review cycle {Cycle}{Resumed}",
            request.DryRun ? "Dry-run" : "Running", run.RunId, cycle, resume is null ? "" : " (resuming where it was cut off)");

        // The run's own start time, also when resumed, so the resumed pages are judged as the first ones were.
        var rules = new InactivityRules(settings, run.StartedAt, await BreakGlassMembersAsync(settings, cancellationToken));
        IReviewRecords records = settings.Mode == ReviewMode.SingleRequest
            ? new ReviewRequest(serviceNow, settings, cycle, groupSysId, run.StartedAt)
            : new ReviewTasks(serviceNow, settings, cycle, groupSysId, run.StartedAt);
        var report = new SweepReport { RunId = run.RunId, Cycle = cycle, DryRun = request.DryRun, Resumed = resume is not null };
        var excluded = new Dictionary<SweepVerdict, int>();
        IReadOnlyDictionary<string, string>? skuNames = null;
        var stillInactive = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        var query = new InactiveCandidateQuery(rules.SignedInBefore, rules.CreatedBefore) { ExtraSelect = rules.ExtraAttributes };
        var gathered = new GatheredAccounts();

        // Looks up, reads the details of and raises the first accounts gathered; checkpoints the pages that completes.
        async Task RaiseGatheredAsync(int count)
        {
            var batch = gathered.Take(count);
            var existing = batch.Count == 0 ? new HashSet<string>() : await records.AlreadyRaisedAsync(batch.Select(i => i.User.Id).ToList(), cancellationToken);
            var fresh = batch.Where(i => !existing.Contains(i.User.Id)).ToList();
            var raised = 0;
            if (fresh.Count > 0)
            {
                var details = await directory.GetReviewDetailsAsync(fresh.Select(i => i.User.Id).ToList(), cancellationToken);
                if (skuNames is null && fresh.Any(i => i.User.AssignedSkuIds.Count > 0))
                {
                    skuNames = await directory.GetSubscribedSkuNamesAsync(cancellationToken);
                }

                // An account missing from the details was deleted since the page was read: nothing to review.
                var accounts = fresh.Where(i => details.ContainsKey(i.User.Id))
                    .Select(i => new InactiveAccount(i.User, i.Verdict, details[i.User.Id],
                        i.User.AssignedSkuIds.Select(sku => skuNames?.GetValueOrDefault(sku) ?? sku).ToList()))
                    .ToList();
                if (request.DryRun)
                {
                    accounts.ForEach(a => request.OnRaised?.Invoke(a));
                }
                else
                {
                    await records.RaiseAsync(accounts, a => request.OnRaised?.Invoke(a), cancellationToken);
                }

                raised = accounts.Count;
            }

            report = report with { Raised = report.Raised + raised, AlreadyRaised = report.AlreadyRaised + batch.Count - fresh.Count };
            if (!request.DryRun && gathered.TryCompletePages(out var continuation) && continuation is not null)
            {
                await SaveCheckpointAsync(run with { Continuation = continuation }, cancellationToken);
            }
        }

        // The next page is read while this one's accounts are raised: Graph's paging overlaps the lookups, details and writes.
        await foreach (var page in directory.GetInactiveCandidatesAsync(query, run.Continuation, cancellationToken).ReadingAhead(cancellationToken))
        {
            var inactive = new List<(DirectoryUser User, SweepVerdict Verdict)>();
            foreach (var user in page.Users)
            {
                var verdict = rules.Judge(user);
                if (verdict is SweepVerdict.NotSignedInSince or SweepVerdict.NeverSignedIn)
                {
                    inactive.Add((user, verdict));
                    stillInactive.Add(user.Id);
                }
                else if (verdict != SweepVerdict.Active)
                {
                    excluded[verdict] = excluded.GetValueOrDefault(verdict) + 1;
                }
            }

            // Whole Graph calls' worth of accounts are raised as soon as gathered; the rest waits for the next pages.
            gathered.AddPage(inactive, page.Continuation);
            await RaiseGatheredAsync(gathered.Count - (gathered.Count % IDirectory.ReviewDetailsPerCall));
            report = report with
            {
                Pages = report.Pages + 1,
                Candidates = report.Candidates + page.Users.Count,
                Excluded = new Dictionary<SweepVerdict, int>(excluded),
            };
            request.OnProgress?.Invoke(report);
        }

        await RaiseGatheredAsync(gathered.Count);

        var followUp = await new OpenReviewFollowUp(directory, serviceNow, settings, rules, clock.GetUtcNow(), logger)
            .RunAsync(stillInactive, request.DryRun, cancellationToken);
        report = report with { Closed = followUp.Closed, Disabled = followUp.Disabled, Refused = followUp.Refused, DisableFailed = followUp.Failed };
        request.OnProgress?.Invoke(report);

        if (!request.DryRun)
        {
            await checkpoints.DeleteAsync(CheckpointKey, cancellationToken);
        }

        logger.LogInformation("Inactive sweep {RunId}: {Raised} review(s) {Verb}, {Already} already raised this cycle, {Excluded} excluded, {Closed} closed after a new sign-in, {Disabled} account(s) disabled after review, {Refused} break-glass review(s) refused",
            run.RunId, report.Raised, request.DryRun ? "would be raised" : "raised", report.AlreadyRaised, excluded.Values.Sum(), report.Closed, report.Disabled, report.Refused);
        return report;
    }

    /// <summary>Direct members of every break-glass group. A group Graph cannot read fails the run: guessing could touch one.</summary>
    private async Task<IReadOnlySet<string>> BreakGlassMembersAsync(InactiveSweepOptions settings, CancellationToken cancellationToken)
    {
        var members = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var groupId in settings.BreakGlassGroupIds)
        {
            if (await directory.GetGroupAsync(groupId, cancellationToken) is null)
            {
                throw new InvalidOperationException($"InactiveSweep:BreakGlassGroupIds names group {groupId}, which Graph does not have; the sweep does not run without it.");
            }

            members.UnionWith(await directory.GetGroupMemberIdsAsync(groupId, cancellationToken));
        }

        return members;
    }

    private async Task<Checkpoint?> ReadCheckpointAsync(CancellationToken cancellationToken)
    {
        if (await checkpoints.GetAsync(CheckpointKey, cancellationToken) is not { Length: > 0 } json)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Checkpoint>(json);
        }
        catch (JsonException)
        {
            // Starting over costs reads only: the lookup before every write keeps it from raising anything twice.
            logger.LogWarning("The stored sweep progress cannot be read; this run starts from the beginning");
            return null;
        }
    }

    private Task SaveCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(CheckpointKey, JsonSerializer.Serialize(checkpoint), cancellationToken);
}
