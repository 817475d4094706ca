using System.Globalization;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// A full groups run (from scratch, an expired link, the full sync) in queued steps: a few pages, or a few chunks of the
/// groups they noted, per <c>group.delta-resync</c> message, so no function invocation carries the whole run and a killed
/// host goes on from the step it was at. Each step queues the next one and saves where the run stands before it returns.
/// </summary>
internal sealed partial class GroupChangesHandler
{
    /// <summary>Delta pages one step of a full run reads (each notes its groups and their members).</summary>
    internal const int PagesPerStep = 5;

    /// <summary>Chunks of groups one step of a full run settles (<see cref="ProvisioningOptions.FullSyncChunkSize"/> groups each).</summary>
    internal const int ChunksPerStep = 2;

    // Members a chunk of groups read in full may hold in memory at once (a chunk has at least one group, whatever its size).
    private const int MaxMembersPerChunk = 20_000;

    /// <summary>
    /// The saved progress a step goes on from; null when the run it belongs to is over (a step delivered twice after the
    /// run completed): it is dropped rather than starting a run of its own.
    /// </summary>
    private async Task<GroupDeltaProgress?> StepOfAsync(string startedBy, CancellationToken cancellationToken)
    {
        var saved = await GroupDeltaProgress.LoadAsync(checkpoints, cancellationToken);
        if (saved?.StartedBy == startedBy)
        {
            return saved;
        }

        logger.LogDebug("A step of the groups run {StartedBy} arrived after the run ended; nothing to do", startedBy);
        return null;
    }

    /// <summary>Queues the run's next step, named by where it stands: a step delivered twice queues the same next step once.</summary>
    private Task NextStepAsync(ChangeMessage message, GroupDeltaProgress progress, CancellationToken cancellationToken)
    {
        var step = $"{progress.Pages.ToString(CultureInfo.InvariantCulture)}.{progress.Chunks.ToString(CultureInfo.InvariantCulture)}";
        return queue.SendAsync(QueueNames.GroupChanges,
        [
            message with
            {
                MessageId = $"{progress.StartedBy}~step{step}",
                SubjectId = $"groups delta step {step}",
                Attempt = 0,
                Properties = new Dictionary<string, string>(message.Properties) { [ProvisioningMessageProperties.GroupRunOf] = progress.StartedBy },
            },
        ], cancellationToken);
    }

    /// <summary>
    /// The groups a full run noted, a chunk at a time: compared with ServiceNow in one go (<see cref="GroupChunkComparison"/>),
    /// those already as Entra has them only have their change records looked at, the others are written, a few at a time;
    /// each note goes once its group is settled or split off. False when the step is over and the next one is queued.
    /// </summary>
    private async Task<bool> SettleAsync(ChangeMessage message, GroupDeltaProgress progress, CancellationToken cancellationToken)
    {
        var parallelism = options.Value.GroupParallelism;
        for (var chunk = 0; await readInFull.AnyLeftAsync(cancellationToken); chunk++)
        {
            if (chunk == ChunksPerStep)
            {
                progress = progress with { Chunks = progress.Chunks + chunk };
                await progress.SaveAsync(checkpoints, cancellationToken);
                await NextStepAsync(message, progress, cancellationToken);
                return false;
            }

            var groups = await readInFull.NextAsync(options.Value.FullSyncChunkSize, MaxMembersPerChunk, cancellationToken);
            var changes = new List<(GroupChange Change, bool MembersNoted)>(groups.Count);
            foreach (var (group, membersNoted) in groups)
            {
                var change = new GroupChange(group) { SharedMatch = await readInFull.SharedMatchAsync(group, cancellationToken) };
                change.Merge(group);
                changes.Add((change, membersNoted));
            }

            var unchanged = await comparison.UnchangedAsync([.. changes.Where(c => c.MembersNoted).Select(c => c.Change)], cancellationToken);
            var followUp = new FollowUps();
            await Parallel.ForEachAsync(changes, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (noted, token) =>
            {
                var index = new SysUserIndex(serviceNow, references, options.Value.ObjectIdField);
                // Read in full, each group is written once: the run's cap counts its changes alone.
                await ApplyOrSplitOffAsync(message, noted.Change, full: true, progress.Baseline, new RecordingRun(progress.RunKey, progress.RunKey), index, followUp,
                    readMembers: !noted.MembersNoted, token, unchanged.GetValueOrDefault(noted.Change.Group.Id));
                await readInFull.SettledAsync(noted.Change.Group.Id, token);
            });
            await QueueFollowUpsAsync(followUp, message, cancellationToken);
        }

        await readInFull.ForgetMatchesAsync(cancellationToken);
        return true;
    }
}
