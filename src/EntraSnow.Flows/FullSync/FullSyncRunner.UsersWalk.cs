using System.Globalization;
using System.Text;
using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.FullSync;

/// <summary>
/// The users walk of a run: one <c>user.sync-page</c> message per step, a few users delta pages (about
/// <see cref="ChunksPerStep"/> chunks of users). Each step reads its pages, compares them in chunks, logs the unchanged
/// users, notes the others (ids, managers, match values; from a full read, apart, the users as the page said them) under <see cref="WalkKeyPrefix"/>, and queues
/// the next step; the last step plans the noted users managers first (FullSyncRunner.FanOut.cs) and queues the groups run.
/// </summary>
public sealed partial class FullSyncRunner
{
    /// <summary>What each chunk of a run's walk noted, until the users are queued.</summary>
    internal const string WalkKeyPrefix = "fullsync:walk:";

    private static readonly JsonSerializerOptions NoteJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault,
    };

    /// <summary>How many chunks of users one step of the walk (one message) compares.</summary>
    private const int ChunksPerStep = 6;

    // A checkpoint value stays under what one Azure Table property holds (64 KiB of UTF-16).
    private const int MaxNoteChars = 30_000;

    /// <summary>
    /// Handles a <c>user.sync-page</c>: reads the step the run's walk is at, compares it, and queues the next step, or
    /// after the last one plans the users that differ; past the walk, the pages are the fan-out's steps, each queueing a
    /// slice of the plan. A step the run is already past is a duplicate and is dropped.
    /// </summary>
    internal async Task HandlePageAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var runId = message.Property(ProvisioningMessageProperties.SyncRun) ?? throw new FormatException("A user.sync-page message without its run.");
        var page = int.TryParse(message.Property(ProvisioningMessageProperties.SyncPage), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new FormatException("A user.sync-page message without its page number.");
        var state = await LoadAsync(runId, cancellationToken);
        if (state is not { Phase: SyncPhase.QueuingUsers } || page != state.NextPage)
        {
            logger.LogDebug("Full sync {RunId}: page {Page} already read", runId, page);
            return;
        }

        if (state.WalkPages is { } walked)
        {
            await QueuePlanSliceAsync(state, page - walked, cancellationToken);
            return;
        }

        var link = page == 0 ? (state.FromScratch ? null : await checkpoints.GetAsync(UsersDeltaLinkKey, cancellationToken)) : state.NextLink;
        // A step reads delta pages until it holds a few whole chunks: chunks then seldom fall short at a page's end.
        var stepUsers = options.Value.FullSyncChunkSize * ChunksPerStep;
        var users = new List<DirectoryUser>(stepUsers);
        var readAt = clock.GetUtcNow(); // Before the read: a decision logged after this may be newer than the page.
        string? nextLink = null, deltaLink = null;
        var fullResync = false;
        await foreach (var read in directory.GetUsersDeltaAsync(link, cancellationToken))
        {
            users.AddRange(read.Items);
            (nextLink, deltaLink, fullResync) = (read.NextLink, read.DeltaLink, fullResync || read.IsFullResync);
            if (users.Count >= stepUsers)
            {
                break; // The walk goes on in the next message.
            }
        }

        users = users.DistinctBy(u => u.Id, StringComparer.OrdinalIgnoreCase).ToList();
        var compare = await comparison.CanCompareAsync(cancellationToken);
        // A full read's pages carry each user whole: its handler can take the user from the page. An incremental page
        // carries only what changed, and its users are read from Graph.
        var whole = state.FullRead || link is null || fullResync;
        var chunkIndex = 0;
        foreach (var chunk in users.Chunk(options.Value.FullSyncChunkSize))
        {
            await CompareChunkAsync(state.RunId, page, chunkIndex++, chunk, compare, whole ? readAt : null, cancellationToken);
        }

        var next = state with
        {
            NextPage = page + 1,
            NextLink = nextLink,
            FullRead = state.FullRead || link is null || fullResync,
            UsersQueued = state.UsersQueued + users.Count,
        };
        if (nextLink is not null)
        {
            // Sent before the state moves on: a crash in between reads this page again, never skips the next.
            await queue.SendAsync(QueueNames.UserChanges, [PageMessage(next)], cancellationToken);
            await SaveAsync(next, cancellationToken);
            return;
        }

        // The users that differ are planned, not queued: the fan-out's steps queue them a slice at a time.
        var (seen, slices) = await PlanNotedUsersAsync(next, cancellationToken);
        if (slices == 0)
        {
            await QueueGroupsAsync(next, cancellationToken);
        }

        if (deltaLink is not null)
        {
            await checkpoints.SetAsync(UsersDeltaLinkKey, deltaLink, cancellationToken);
        }

        var planned = next with { WalkPages = next.NextPage, PlanSlices = slices, UsersQueued = seen };
        if (slices > 0)
        {
            await queue.SendAsync(QueueNames.UserChanges, [PageMessage(planned)], cancellationToken);
        }

        await SaveAsync(slices > 0 ? planned : planned with { Phase = SyncPhase.ProvisioningUsers }, cancellationToken);
        await foreach (var note in checkpoints.ListAsync(WalkKey(runId), cancellationToken))
        {
            if (!note.Key.StartsWith(PlanKey(runId), StringComparison.Ordinal))
            {
                await checkpoints.DeleteAsync(note.Key, cancellationToken);
            }
        }
    }

    private ChangeMessage PageMessage(SyncRunState state) => new()
    {
        MessageId = $"{MessageKinds.UserSyncPage}:{state.RunId}:{state.NextPage}",
        SessionKey = $"fullsync:{state.RunId}",
        Kind = MessageKinds.UserSyncPage,
        TenantId = options.Value.TenantId,
        SubjectId = state.WalkPages is { } walked ? $"users to provision, slice {state.NextPage - walked + 1} of {state.PlanSlices}" : $"users delta page {state.NextPage}",
        ChangedAt = clock.GetUtcNow(),
        CorrelationId = state.RunId,
        Properties = new Dictionary<string, string>
        {
            [ProvisioningMessageProperties.SyncRun] = state.RunId,
            [ProvisioningMessageProperties.SyncPage] = state.NextPage.ToString(CultureInfo.InvariantCulture),
        },
    };

    internal static string WalkKey(string runId) => $"{WalkKeyPrefix}{runId}:";

    /// <summary>
    /// Compares one chunk, logs what it decided, and notes every user seen and each one its handler must see; with
    /// <paramref name="wholeAt"/> (a full read, and when it was read), also those users as the page said them.
    /// </summary>
    private async Task CompareChunkAsync(string runId, int page, int chunkIndex, DirectoryUser[] chunk, bool compare, DateTimeOffset? wholeAt,
        CancellationToken cancellationToken)
    {
        var decisions = compare
            ? await comparison.CompareAsync(chunk, cancellationToken)
            : chunk.Select(u => new ChunkDecision(u.Id, ChunkVerdict.Differs)).ToList();
        var seen = new List<NotedUser>(chunk.Length);
        var snapshots = new List<PageSnapshot>();
        var decided = new List<ProvisioningLogEntry>(chunk.Length);
        foreach (var (user, decision) in chunk.Zip(decisions))
        {
            if (decision.Verdict is ChunkVerdict.Unchanged or ChunkVerdict.Skipped)
            {
                decided.Add(Decided(runId, decision));
                seen.Add(new NotedUser(user.Id, decision.SysId));
                continue;
            }

            seen.Add(new NotedUser(user.Id, decision.SysId)
            {
                Pending = true,
                ManagerId = user.ManagerId,
                Absent = decision.Verdict == ChunkVerdict.Absent,
                Match = decision.Verdict == ChunkVerdict.Absent && _adoption.Enabled
                    ? [.. _adoption.MatchValues(user).Select(v => new[] { v.Field, v.Value })]
                    : null,
            });
            if (wholeAt is { } readAt && PageSnapshot.Fits(user))
            {
                snapshots.Add(new PageSnapshot(readAt, user));
            }
        }

        // One write for the chunk: a resync of 100,000 unchanged users is 700 writes to the log, not 100,000.
        await log.AppendManyAsync(decided, cancellationToken);
        await WriteNoteAsync($"{WalkKey(runId)}{page:D6}:{chunkIndex:D4}:", seen, cancellationToken);
        if (snapshots.Count > 0)
        {
            // Apart from the light notes, which planning reads twice: the users themselves are read once, to be filed by slice.
            await WriteNoteAsync($"{PagesKey(runId)}{page:D6}:{chunkIndex:D4}:", snapshots, cancellationToken);
        }
    }

    /// <summary>The users a full read's pages carried, as the walk noted them, until planning files them by slice.</summary>
    internal static string PagesKey(string runId) => $"{WalkKey(runId)}users:";

    /// <summary>The light notes of the walk's chunks (ids, records, managers, match values), one user at a time, in walk order.</summary>
    private async IAsyncEnumerable<NotedUser> ReadWalkNotesAsync(string runId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var walk = WalkKey(runId);
        await foreach (var note in checkpoints.ListAsync(walk, cancellationToken))
        {
            // A chunk's notes are keyed by page number; the users and the plan sit beside them under their own names.
            if (note.Key.Length > walk.Length && char.IsAsciiDigit(note.Key[walk.Length]))
            {
                foreach (var noted in JsonSerializer.Deserialize<List<NotedUser>>(note.Value, NoteJson) ?? [])
                {
                    yield return noted;
                }
            }
        }
    }

    /// <summary>
    /// Notes <paramref name="items"/> under <paramref name="key"/> in parts small enough for any checkpoint store
    /// (<c>key</c> + a two-digit part number); rewritten whole when a step is done again.
    /// </summary>
    private async Task WriteNoteAsync<T>(string key, IEnumerable<T> items, CancellationToken cancellationToken)
    {
        var part = 0;
        var json = new StringBuilder();
        foreach (var item in items)
        {
            var one = JsonSerializer.Serialize(item, NoteJson);
            if (json.Length > 0 && json.Length + one.Length + 2 > MaxNoteChars)
            {
                await checkpoints.SetAsync($"{key}{part++:D2}", $"[{json}]", cancellationToken);
                json.Clear();
            }

            json.Append(json.Length > 0 ? "," : string.Empty).Append(one);
        }

        await checkpoints.SetAsync($"{key}{part:D2}", $"[{json}]", cancellationToken);
    }

    /// <summary>What was noted under <paramref name="prefix"/>, one item at a time, in key order: never every note at once.</summary>
    private async IAsyncEnumerable<T> ReadNotesAsync<T>(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var note in checkpoints.ListAsync(prefix, cancellationToken))
        {
            foreach (var item in JsonSerializer.Deserialize<List<T>>(note.Value, NoteJson) ?? [])
            {
                yield return item;
            }
        }
    }

    /// <summary>A user the comparison decided: logged as its handler would have, under the message id it would have had.</summary>
    private ProvisioningLogEntry Decided(string runId, ChunkDecision decision)
    {
        var action = decision.Verdict == ChunkVerdict.Unchanged ? ProvisioningAction.Unchanged : ProvisioningAction.Skipped;
        ProvisioningTelemetry.Decided(action, ProvisioningObjectKinds.User);
        return new ProvisioningLogEntry
        {
            Timestamp = clock.GetUtcNow(),
            CorrelationId = runId,
            MessageId = UserSyncMessageId(runId, decision.UserId),
            SubjectId = decision.UserId,
            ObjectKind = ProvisioningObjectKinds.User,
            Action = action,
            ChangedFields = [],
            Reason = decision.Reason,
            TargetSysId = decision.SysId,
        };
    }

    /// <summary>A user the walk saw: its record, and for one its handler must see, what ordering and adoption need.</summary>
    private sealed record NotedUser(string Id, string? SysId)
    {
        public bool Pending { get; init; }
        public string? ManagerId { get; init; }
        public bool Absent { get; init; }
        public List<string[]>? Match { get; init; }
    }
}
