using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>What became of the open reviews in one run.</summary>
internal readonly record struct FollowUpResult(int Closed, int Disabled, int Refused, int Failed);

/// <summary>
/// The account reviews after the new ones are raised: an open review whose account signed in again is closed with a note;
/// with <see cref="InactiveSweepOptions.DisableAccounts"/>, an approved one (or one unanswered for
/// <see cref="InactiveSweepOptions.GraceDays"/>) disables its account, notes it on the task and closes it. A review the
/// reviewer approved and closed in one step (of this cycle or the one before) is acted on too, once: EntraSnow's note is
/// added to its close notes, which is how later runs know it was handled. Every step can be repeated after a crash: the
/// account's state is read again first, and an account already disabled only has its task noted.
/// </summary>
internal sealed class OpenReviewFollowUp(
    IDirectory directory,
    IServiceNowTable serviceNow,
    InactiveSweepOptions options,
    InactivityRules rules,
    DateTimeOffset now,
    ILogger logger)
{
    /// <summary>Graph's $batch holds 20 requests: sign-in states are read 20 accounts at a time.</summary>
    private const int SignInStateChunk = 20;

    /// <summary>The task table's states: Closed Complete, and Closed Incomplete for a review EntraSnow refused to act on.</summary>
    private const string ClosedComplete = "3";

    private const string ClosedIncomplete = "4";

    /// <summary>
    /// Every close note EntraSnow writes contains one of these (the first since notes end "Closed by EntraSnow." or
    /// "Noted by EntraSnow."; the second is how earlier versions noted a disabling): a closed review whose close notes
    /// carry one was handled already, by EntraSnow closing it or acting on it after the reviewer did.
    /// </summary>
    private static readonly string[] HandledMarks = ["by EntraSnow.", "EntraSnow disabled "];

    private static readonly string[] ReviewFields = ["sys_id", "correlation_id", "approval", "sys_created_on", "close_notes"];

    private sealed record Review(string SysId, string UserId, string? Approval, DateTimeOffset? OpenedAt, bool ClosedByReviewer, string? CloseNotes);

    /// <param name="stillInactive">Accounts this run read as inactive moments ago: their reviews need no second look unless they are due for disabling.</param>
    public async Task<FollowUpResult> RunAsync(IReadOnlySet<string> stillInactive, bool dryRun, CancellationToken cancellationToken)
    {
        if (options.Mode != ReviewMode.TaskPerAccount || !(options.CloseWhenSignedInAgain || options.DisableAccounts))
        {
            return default;
        }

        // Both lists are collected before anything is written: closing records while paging through "active=true" would
        // shift the pages, and a task closed by this run must not come back as one a reviewer closed.
        var reviews = new List<Review>();
        var open = EncodedQuery.Where("correlation_id", "STARTSWITH", ReviewCorrelation.Prefix).And("active", "true");
        await foreach (var record in serviceNow.QueryAsync(options.Table, open, ReviewFields, cancellationToken))
        {
            if (ReviewOf(record, closedByReviewer: false) is { } review)
            {
                reviews.Add(review);
            }
        }

        if (options.DisableAccounts)
        {
            // Approved and closed by the reviewer in one step: only this cycle's and the previous one's, so switching the
            // action on never acts on approvals given long before.
            var closed = EncodedQuery.Where("correlation_id", "STARTSWITH", ReviewCorrelation.Prefix).And("active", "false").And("approval", "approved")
                .And("correlation_id", "ENDSWITH", ":" + ReviewCycles.IdOf(options.Cycle, now))
                .Or("correlation_id", "ENDSWITH", ":" + ReviewCycles.PreviousIdOf(options.Cycle, now));
            await foreach (var record in serviceNow.QueryAsync(options.Table, closed, ReviewFields, cancellationToken))
            {
                if (!Handled(record["close_notes"]) && ReviewOf(record, closedByReviewer: true) is { } review)
                {
                    reviews.Add(review);
                }
            }
        }

        var toRead = reviews.Where(r => DueForDisabling(r) || (!r.ClosedByReviewer && options.CloseWhenSignedInAgain && !stillInactive.Contains(r.UserId))).ToList();
        var result = default(FollowUpResult);
        foreach (var chunk in toRead.Chunk(SignInStateChunk))
        {
            var states = (await directory.GetSignInStatesAsync(chunk.Select(r => r.UserId).ToList(), cancellationToken))
                .ToDictionary(u => u.Id, StringComparer.OrdinalIgnoreCase);
            foreach (var review in chunk)
            {
                if (!states.TryGetValue(review.UserId, out var user))
                {
                    continue; // Deleted since: nothing to close it for, nothing to disable.
                }

                if (SignedInAgain(user, review))
                {
                    if (review.ClosedByReviewer)
                    {
                        var kept = $"{Name(user)} signed in again on {user.LastSuccessfulSignIn:yyyy-MM-dd HH:mm} UTC, after this review was opened: not disabled although the review was approved. {Signature(review)}";
                        await CloseAsync(review, ClosedComplete, kept, dryRun, cancellationToken);
                    }
                    else if (options.CloseWhenSignedInAgain)
                    {
                        var note = $"{Name(user)} signed in again on {user.LastSuccessfulSignIn:yyyy-MM-dd HH:mm} UTC: no review needed. Closed by EntraSnow.";
                        await CloseAsync(review, ClosedComplete, note, dryRun, cancellationToken);
                        result = result with { Closed = result.Closed + 1 };
                    }

                    continue;
                }

                if (DueForDisabling(review))
                {
                    result = await DisableAsync(review, user, dryRun, result, cancellationToken);
                }
            }
        }

        return result;
    }

    private static Review? ReviewOf(ServiceNowRecord record, bool closedByReviewer) =>
        ReviewCorrelation.UserOf(record["correlation_id"]) is { } userId
            ? new Review(record.SysId, userId, record["approval"], OpenedAt(record["sys_created_on"]), closedByReviewer, record["close_notes"])
            : null;

    private static bool Handled(string? closeNotes) =>
        closeNotes is not null && HandledMarks.Any(mark => closeNotes.Contains(mark, StringComparison.Ordinal));

    private static bool Approved(Review review) => string.Equals(review.Approval, "approved", StringComparison.OrdinalIgnoreCase);

    /// <summary>Approved, or neither approved nor rejected within the grace period.</summary>
    private bool DueForDisabling(Review review) =>
        options.DisableAccounts
        && (Approved(review)
            || (!review.ClosedByReviewer
                && options.GraceDays is { } grace
                && !string.Equals(review.Approval, "rejected", StringComparison.OrdinalIgnoreCase)
                && review.OpenedAt is { } opened
                && opened <= now.AddDays(-grace)));

    /// <summary>Within its threshold, or at all since the review was opened: either way someone uses the account.</summary>
    private bool SignedInAgain(DirectoryUser user, Review review) =>
        rules.SignedInAgain(user) || (user.LastSuccessfulSignIn is { } last && review.OpenedAt is { } opened && last > opened);

    private async Task<FollowUpResult> DisableAsync(Review review, DirectoryUser user, bool dryRun, FollowUpResult result, CancellationToken cancellationToken)
    {
        var why = Approved(review) ? "the review was approved" : $"the review was unanswered for {options.GraceDays} days";

        // Membership is read again now, not taken from the start of the run: a break-glass account is never disabled.
        if (await IsBreakGlassNowAsync(user.Id, cancellationToken))
        {
            var refusal = $"{Name(user)} is a member of a break-glass group (InactiveSweep:BreakGlassGroupIds): EntraSnow never disables it, although {why}. {Signature(review)}";
            await CloseAsync(review, ClosedIncomplete, refusal, dryRun, cancellationToken);
            logger.LogWarning("Review {SysId}: {UserId} is break-glass; not disabled", review.SysId, user.Id);
            return result with { Refused = result.Refused + 1 };
        }

        if (user.AccountEnabled == false)
        {
            // Disabled by an earlier run that stopped before closing the task, or by someone else: only the task is left.
            await CloseAsync(review, ClosedComplete, $"{Name(user)} is disabled in Entra ID ({why}). {Signature(review)}", dryRun, cancellationToken);
            return result with { Disabled = result.Disabled + 1 };
        }

        if (!dryRun)
        {
            try
            {
                await directory.DisableUserAsync(user.Id, cancellationToken);
            }
            catch (GraphRequestException ex) when (ex.StatusCode is 400 or 403 or 404)
            {
                // One account Graph refuses (e.g. an administrator the app may not manage) stops no other: its review is tried again at the next run.
                logger.LogWarning("Graph refused to disable {UserId} ({Status} {Code}); review {SysId} is tried again at the next run", user.Id, ex.StatusCode, ex.ErrorCode, review.SysId);
                return result with { Failed = result.Failed + 1 };
            }

            logger.LogInformation("Disabled {UserId} in Entra ID: {Why} (review {SysId})", user.Id, why, review.SysId);
        }

        var note = string.Create(CultureInfo.InvariantCulture,
            $"EntraSnow disabled {Name(user)} in Entra ID on {now:yyyy-MM-dd HH:mm} UTC: {why}. Re-enable it in Entra ID if it is still needed. {Signature(review)}");
        await CloseAsync(review, ClosedComplete, note, dryRun, cancellationToken);
        return result with { Disabled = result.Disabled + 1 };
    }

    private async Task<bool> IsBreakGlassNowAsync(string userId, CancellationToken cancellationToken)
    {
        if (rules.IsBreakGlass(userId))
        {
            return true;
        }

        if (options.BreakGlassGroupIds.Count == 0)
        {
            return false;
        }

        var groups = await directory.GetUserGroupIdsAsync(userId, cancellationToken);
        return groups.Any(g => options.BreakGlassGroupIds.Contains(g, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>How a note ends (one of <see cref="HandledMarks"/>): a task the reviewer closed is only noted.</summary>
    private static string Signature(Review review) => review.ClosedByReviewer ? "Noted by EntraSnow." : "Closed by EntraSnow.";

    /// <summary>Closes an open review with the note; a review the reviewer closed keeps its state and has the note added to their close notes.</summary>
    private async Task CloseAsync(Review review, string state, string note, bool dryRun, CancellationToken cancellationToken)
    {
        if (dryRun)
        {
            return;
        }

        var fields = review.ClosedByReviewer
            ? new Dictionary<string, string?>
            {
                ["close_notes"] = string.IsNullOrWhiteSpace(review.CloseNotes) ? note : review.CloseNotes + "\n\n" + note,
                ["work_notes"] = note,
            }
            : new Dictionary<string, string?>
            {
                ["state"] = state,
                ["active"] = "false",
                ["close_notes"] = note,
                ["work_notes"] = note,
            };
        await serviceNow.UpdateAsync(options.Table, review.SysId, fields, cancellationToken);
        logger.LogInformation("{Action} review {SysId} of {UserId}", review.ClosedByReviewer ? "Noted" : "Closed", review.SysId, review.UserId);
    }

    private static string Name(DirectoryUser user) => user.UserPrincipalName ?? user.Id;

    /// <summary>The Table API's date-times are UTC, <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
    private static DateTimeOffset? OpenedAt(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
}
