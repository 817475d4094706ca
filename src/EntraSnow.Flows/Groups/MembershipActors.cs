using System.Globalization;
using EntraSnow.Connectors.Graph;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>Who made a group's membership changes, as far as the directory audit log says.</summary>
internal interface IMembershipActors
{
    /// <summary>
    /// The group's audit entries of the lookback window, read once for all of a run's <paramref name="changes"/> changes to
    /// it. Never fails the record: a log that cannot be read (no AuditLog.Read.All, Graph down) gives no actors.
    /// </summary>
    /// <param name="changedBy">Read entries of changes made by then (a follow-up's record was observed then); null: until now.</param>
    Task<MembershipActorLookup> ReadAsync(string groupId, int changes, DateTimeOffset? changedBy, CancellationToken cancellationToken);
}

/// <summary>One read of a group's audit entries, asked per member.</summary>
/// <param name="worthAskingAgain">False when the log is not read at all (ReadActors off, AuditLog.Read.All refused): a later look would say no more.</param>
internal sealed class MembershipActorLookup(IEnumerable<DirectoryAuditEntry> entries, bool worthAskingAgain = true)
{
    public const string AddActivity = "Add member to group";
    public const string RemoveActivity = "Remove member from group";

    /// <summary>The log is not read (off, or refused).</summary>
    public static readonly MembershipActorLookup None = new([], worthAskingAgain: false);

    /// <summary>The log could not be read this time (Graph unavailable): a later look may.</summary>
    public static readonly MembershipActorLookup Unavailable = new([]);

    /// <summary>Whether reading the log again later could name an actor this read did not.</summary>
    public bool WorthAskingAgain { get; } = worthAskingAgain;

    private readonly List<DirectoryAuditEntry> _newestFirst = [.. entries.OrderByDescending(e => e.ActivityDateTime)];

    /// <summary>Who added (or removed) the member, when, and the audit entry's id; null when no entry matches.</summary>
    public string? ActorOf(string memberId, bool added) => Find(memberId, added) is { } entry
        ? string.Create(CultureInfo.InvariantCulture, $"{Who(entry)} at {entry.ActivityDateTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (directory audit entry {entry.Id})")
        : null;

    /// <summary>Only who: a user's sign-in name or an application's name; null when no entry matches.</summary>
    public string? WhoOf(string memberId, bool added) => Find(memberId, added) is { } entry ? Who(entry) : null;

    /// <summary>The latest successful add (or remove) of the member in the group's entries.</summary>
    private DirectoryAuditEntry? Find(string memberId, bool added)
    {
        var activity = added ? AddActivity : RemoveActivity;
        return _newestFirst.FirstOrDefault(e => string.Equals(e.Activity, activity, StringComparison.OrdinalIgnoreCase)
            && (e.Result is null || string.Equals(e.Result, "success", StringComparison.OrdinalIgnoreCase))
            && e.Targets.Any(t => string.Equals(t.Id, memberId, StringComparison.OrdinalIgnoreCase)));
    }

    // A user is named by sign-in name; an application (a sync engine, a script) by its name.
    private static string Who(DirectoryAuditEntry entry) =>
        entry.UserPrincipalName ?? entry.UserDisplayName ?? entry.UserId
            ?? $"{entry.AppDisplayName ?? entry.AppId ?? "an unnamed initiator"} (application)";
}

/// <summary>
/// <see cref="IMembershipActors"/> over Graph's directory audit log: entries naming the group as a target, within
/// <see cref="GroupChangeOptions.ActorLookback"/> of now. A 403 (AuditLog.Read.All not granted) is remembered for an
/// hour, so a tenant without the permission costs one refused call an hour, not one per group.
/// </summary>
internal sealed class AuditLogMembershipActors(
    IDirectory directory,
    IOptions<GroupChangeOptions> options,
    TimeProvider clock,
    ILogger<AuditLogMembershipActors> logger) : IMembershipActors
{
    private static readonly TimeSpan RefusalMemory = TimeSpan.FromHours(1);

    // One entry per change, plus the group's other changes in the window that share the pages: at most two pages.
    private const int EntriesPerChange = 3;
    private const int EntriesMargin = 20;
    private const int MaxEntries = 1_000;

    private long _refusedUntilTicks;

    // Graph's clock and ours may differ a little: a follow-up accepts entries this long after the record's observation.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    public async Task<MembershipActorLookup> ReadAsync(string groupId, int changes, DateTimeOffset? changedBy, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        if (!settings.ReadActors || now.UtcTicks < Interlocked.Read(ref _refusedUntilTicks))
        {
            return MembershipActorLookup.None;
        }

        var limit = (int)Math.Min(MaxEntries, (long)changes * EntriesPerChange + EntriesMargin);
        try
        {
            var to = changedBy is { } by && by + ClockSkew < now ? by + ClockSkew : now;
            var entries = await directory.GetDirectoryAuditsAsync(new DirectoryAuditQuery(groupId, (changedBy ?? now) - settings.ActorLookback, to, limit), cancellationToken);
            return new MembershipActorLookup(entries);
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 403)
        {
            Interlocked.Exchange(ref _refusedUntilTicks, (now + RefusalMemory).UtcTicks);
            logger.LogWarning("Graph refused the directory audit log ({Reason}): change records say \"{ActorNotRead}\" until AuditLog.Read.All is granted; asked again in {Wait}",
                ex.Message, ChangeRequestText.ActorNotRead, RefusalMemory);
        }
        catch (Exception ex) when (ex is GraphRequestException or GraphUnavailableException or NotSupportedException)
        {
            logger.LogWarning("The directory audit log could not be read for group {GroupId} ({Reason}); its change records say \"{ActorNotRead}\" until it is read again",
                groupId, ex.Message, ChangeRequestText.ActorNotRead);
            return ex is NotSupportedException ? MembershipActorLookup.None : MembershipActorLookup.Unavailable;
        }

        return MembershipActorLookup.None;
    }
}
