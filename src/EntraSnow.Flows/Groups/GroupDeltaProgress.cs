using System.Text.Json;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// Where an unfinished groups delta run stands, saved after each page's work is durable: a run cut off half-way (a
/// killed host, a redelivered message) goes on from the page after the last one saved instead of reading everything
/// again, and a from-scratch run keeps knowing it is one.
/// </summary>
/// <param name="ReadFrom">The link the next page is read from: the stored delta link, a page's nextLink, or null (from scratch).</param>
/// <param name="Full">Whether the run reads every group in full (from scratch, or an expired link read again).</param>
/// <param name="Baseline">Whether the run only sets where memberships stand (<see cref="MembershipLedger"/>): no records.</param>
/// <param name="RunKey">What the run first read from (its delta link, or, read from scratch, its message id and start): stable while the run goes on.</param>
/// <param name="StartedBy">The message that started the run: a from-scratch message redelivered resumes its own run.</param>
/// <param name="Pages">Pages done so far.</param>
/// <param name="Groups">Group items read so far (a full sync reports it).</param>
/// <param name="Finished">Set once the last page is done: the groups read in full are being settled, then <paramref name="DeltaLink"/> is stored.</param>
/// <param name="DeltaLink">The last page's delta link, stored for the next run once this one is done.</param>
/// <param name="Recorded">Membership changes recorded so far per group (<see cref="RecordingRun"/>); null when none.</param>
/// <param name="Chunks">Chunks of groups read in full settled so far (a full run's steps are numbered by pages and chunks).</param>
internal sealed record GroupDeltaProgress(
    string? ReadFrom,
    bool Full,
    bool Baseline,
    string RunKey,
    string StartedBy,
    int Pages = 0,
    int Groups = 0,
    bool Finished = false,
    string? DeltaLink = null,
    Dictionary<string, int>? Recorded = null,
    int Chunks = 0)
{
    public const string Key = "delta:groups:progress";

    /// <summary>What the page in hand is known by when the run is replayed: the run for its first page, the page's link after.</summary>
    public string PageKey => Pages == 0 || ReadFrom is null ? RunKey : ReadFrom;

    public static async Task<GroupDeltaProgress?> LoadAsync(ICheckpointStore checkpoints, CancellationToken cancellationToken) =>
        await checkpoints.GetAsync(Key, cancellationToken) is { Length: > 0 } json ? JsonSerializer.Deserialize<GroupDeltaProgress>(json) : null;

    public Task SaveAsync(ICheckpointStore checkpoints, CancellationToken cancellationToken) =>
        checkpoints.SetAsync(Key, JsonSerializer.Serialize(this), cancellationToken);

    public static Task ForgetAsync(ICheckpointStore checkpoints, CancellationToken cancellationToken) =>
        checkpoints.DeleteAsync(Key, cancellationToken);
}
