using EntraSnow.Tests.Shared;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests.Fakes;

/// <summary>A directory (NSubstitute over a dictionary of users), an in-memory ServiceNow, queue, stores and clock, wired to the real flows.</summary>
internal sealed class ProvisioningWorld
{
    public Dictionary<string, DirectoryUser> Users { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<string>> UserGroups { get; } = new(StringComparer.Ordinal);

    public List<DeltaPage<DirectoryGroup>> GroupDelta { get; } = [];

    /// <summary>The links the groups delta was read from (null: from scratch).</summary>
    public List<string?> GroupDeltaReads { get; } = [];

    /// <summary>The directory audit log, as Graph filters it: entries naming the queried object, in the window, newest first.</summary>
    public List<DirectoryAuditEntry> AuditLog { get; } = [];

    /// <summary>The audit log queries Graph was sent.</summary>
    public List<DirectoryAuditQuery> AuditQueries { get; } = [];

    public IDirectory Directory { get; } = Substitute.For<IDirectory>();

    public InMemoryServiceNow ServiceNow { get; } = new();

    public InMemoryQueue Queue { get; } = new();

    public InMemoryCheckpoints Checkpoints { get; }

    public InMemoryProvisioningLog Log { get; } = new();

    /// <summary>When the world's clock starts; the time <see cref="Message"/> stamps on its messages.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Clock { get; } = new(Start);

    // One group at a time: the in-memory ServiceNow is not thread-safe (the emulator tests run the default parallelism).
    public ProvisioningOptions Options { get; } = new() { TenantId = "tenant-1", GroupParallelism = 1 };

    public MessagingOptions Messaging { get; } = new();

    public GroupChangeOptions GroupChanges { get; } = new();

    /// <summary>How many users Graph was asked for in $batch reads (a change record names its member).</summary>
    public int GraphBatchUserReads { get; private set; }

    public int GraphUserReads { get; private set; }

    internal ProvisionedUserIds ProvisionedIds { get; } = new();

    public ProvisioningWorld()
    {
        Checkpoints = new InMemoryCheckpoints(Clock);
        Directory.GetUserAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            GraphUserReads++;
            return Users.TryGetValue(call.Arg<string>(), out var user) ? user : null;
        });
        Directory.GetUsersAsync(Arg.Any<IReadOnlyCollection<string>>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            var ids = call.Arg<IReadOnlyCollection<string>>();
            GraphBatchUserReads += ids.Count;
            return (IReadOnlyList<DirectoryUser>)ids.Select(id => Users.GetValueOrDefault(id)).OfType<DirectoryUser>().ToList();
        });
        Directory.GetUserGroupIdsAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(call =>
            (IReadOnlyList<string>)(UserGroups.TryGetValue(call.Arg<string>(), out var groups) ? groups : []));
        Directory.GetUsersDeltaAsync(Arg.Any<string?>(), Arg.Any<CancellationToken>()).Returns(call => UsersDelta(call.Arg<string?>()));
        Directory.GetGroupsDeltaAsync(Arg.Any<string?>(), Arg.Any<CancellationToken>()).Returns(call => GroupsDelta(call.Arg<string?>()));
        // Unless a test says otherwise, Graph lists as a group's members those the configured delta lists as added.
        Directory.GetGroupMembersAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            var items = GroupDelta.SelectMany(p => p.Items).Where(g => string.Equals(g.Id, call.Arg<string>(), StringComparison.OrdinalIgnoreCase)).ToList();
            return new GroupMembers([.. items.SelectMany(g => g.MembersAdded).Distinct()], [.. items.SelectMany(g => g.NestedGroupsAdded).Distinct()]);
        });
        Directory.GetDirectoryAuditsAsync(Arg.Any<DirectoryAuditQuery>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            var query = call.Arg<DirectoryAuditQuery>();
            AuditQueries.Add(query);
            return (IReadOnlyList<DirectoryAuditEntry>)AuditLog
                .Where(e => e.ActivityDateTime >= query.From && e.ActivityDateTime <= query.To && e.Targets.Any(t => t.Id == query.TargetId))
                .OrderByDescending(e => e.ActivityDateTime).Take(query.MaxEntries).ToList();
        });
    }

    public DirectoryUser AddUser(string id, string upn, string? department = null, string? managerId = null, bool enabled = true)
    {
        var user = new DirectoryUser
        {
            Id = id,
            UserPrincipalName = upn,
            DisplayName = upn,
            Mail = upn,
            GivenName = "Given " + id,
            Surname = "Surname " + id,
            Department = department,
            ManagerId = managerId,
            AccountEnabled = enabled,
            UserType = "Member",
        };
        Users[id] = user;
        return user;
    }

    public string AddDepartment(string name) =>
        ServiceNow.Seed("cmn_department", new Dictionary<string, string?> { ["name"] = name });

    internal UserChunkComparison Comparison()
    {
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        return new(ServiceNow, Mapper(), ProvisionedIds, new UserScope(Directory, options), options);
    }

    internal UserAttributeMapper Mapper() => new(ServiceNow, ProvisionedIds, Microsoft.Extensions.Options.Options.Create(Options), Clock);

    internal ProvisionUserHandler UserHandler(UserAttributeMapper? mapper = null)
    {
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        return new ProvisionUserHandler(Directory, ServiceNow, mapper ?? Mapper(), ProvisionedIds,
            new UserScope(Directory, options), Queue, Checkpoints, Log, options,
            Microsoft.Extensions.Options.Options.Create(Messaging), FullSync(), Clock, NullLogger<ProvisionUserHandler>.Instance);
    }

    public GroupChangesHandler GroupHandler()
    {
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        var changeOptions = Microsoft.Extensions.Options.Options.Create(GroupChanges);
        var ledger = new MembershipLedger(Checkpoints);
        Actors ??= new AuditLogMembershipActors(Directory, changeOptions, Clock, NullLogger<AuditLogMembershipActors>.Instance);
        var actorFollowUp = new ActorFollowUp(Queue, ServiceNow, Actors, changeOptions, Clock, NullLogger<ActorFollowUp>.Instance);
        var recorder = new MembershipChangeRecorder(Directory, ServiceNow, ledger, new MembershipTransitions(ServiceNow, ledger, Clock),
            new MembershipFulfilment(Directory, ledger, Clock, NullLogger<MembershipFulfilment>.Instance), new ChangeAssignmentGroup(ServiceNow, changeOptions),
            Actors, actorFollowUp, new BulkChangeSummaries(ServiceNow, Checkpoints, NullLogger<BulkChangeSummaries>.Instance),
            SensitiveGroups ??= new SensitiveGroupPolicy(Directory, changeOptions), changeOptions, Clock,
            NullLogger<MembershipChangeRecorder>.Instance);
        return new(Directory, ServiceNow, ServiceNow, Queue, Checkpoints, Log, FullSync(), new GroupMembershipMirror(ServiceNow, options),
            new GroupChunkComparison(ServiceNow, options, NullLogger<GroupChunkComparison>.Instance), recorder, ledger,
            actorFollowUp, options, changeOptions, Clock, NullLogger<GroupChangesHandler>.Instance);
    }

    /// <summary>One reader of the audit log for the world's life, as the host's singleton (it remembers a refusal).</summary>
    private AuditLogMembershipActors? Actors { get; set; }

    /// <summary>One policy reader for the world's life, as the host's singleton (it remembers which groups are role-assignable).</summary>
    private SensitiveGroupPolicy? SensitiveGroups { get; set; }

    public IReadOnlyList<IReadOnlyDictionary<string, string?>> ChangeRequests => ServiceNow.Records(MembershipChangeRecorder.Table);

    public FullSyncRunner FullSync() =>
        new(Directory, ServiceNow, Comparison(), Queue, Checkpoints, Log, Microsoft.Extensions.Options.Options.Create(Options), Clock,
            NullLogger<FullSyncRunner>.Instance);

    /// <summary>Starts a full sync and reads its users delta to the end, as its page messages do: the users that differ are then queued.</summary>
    public async Task<string> StartSyncAsync(FullSyncRunner? runner = null)
    {
        var runId = await (runner ?? FullSync()).StartAsync();
        await WalkUsersAsync();
        return runId;
    }

    /// <summary>Handles the queued users delta pages of full syncs, leaving every other message queued.</summary>
    public async Task WalkUsersAsync()
    {
        while (Queue.Take(m => m.Kind == MessageKinds.UserSyncPage) is { } page)
        {
            await UserHandler().HandleAsync(page.Message, CancellationToken.None);
        }
    }

    public static ChangeMessage Message(string kind, string subjectId, string? messageId = null, int attempt = 0) => new()
    {
        MessageId = messageId ?? $"{kind}:{subjectId}:{Guid.NewGuid():N}",
        SessionKey = subjectId,
        Kind = kind,
        TenantId = "tenant-1",
        SubjectId = subjectId,
        ChangedAt = Start,
        CorrelationId = "corr-" + subjectId,
        Attempt = attempt,
    };

    /// <summary>Delivers every ready message to its handler, like a host's consumer; returns how many ran. Failures are kept, as a dead-letter queue would.</summary>
    public async Task<int> DrainAsync(bool releaseScheduled = true)
    {
        var user = UserHandler();
        var group = GroupHandler();
        var handled = 0;
        while (true)
        {
            // A guard, not a timing: a test that never lets its work settle fails instead of spinning.
            if (handled > 100_000)
            {
                throw new InvalidOperationException("The queue never drained.");
            }

            var next = Queue.Take();
            if (next is null)
            {
                if (releaseScheduled && Queue.ReleaseScheduled() > 0)
                {
                    continue;
                }

                return handled;
            }

            IMessageHandler handler = next.Value.Queue == QueueNames.UserChanges ? user : group;
            try
            {
                await handler.HandleAsync(next.Value.Message, CancellationToken.None);
            }
            catch (PermanentFailureException ex)
            {
                DeadLettered.Add((next.Value.Message, ex.Message));
            }
            catch (TransientFailureException)
            {
                // What MessageProcessor does: try again later.
                var retry = next.Value.Message with { Attempt = next.Value.Message.Attempt + 1 };
                await Queue.ScheduleAsync(next.Value.Queue, retry, Clock.GetUtcNow() + TimeSpan.FromSeconds(30));
                Rescheduled++;
                if (!releaseScheduled)
                {
                    continue;
                }

                return handled;
            }

            handled++;
        }
    }

    public List<(ChangeMessage Message, string Reason)> DeadLettered { get; } = [];

    public int Rescheduled { get; private set; }

    public IReadOnlyList<IReadOnlyDictionary<string, string?>> SysUsers => ServiceNow.Records("sys_user");

    public IReadOnlyDictionary<string, string?> SysUser(string objectId) =>
        SysUsers.Single(r => r["u_entra_object_id"] == objectId);

#pragma warning disable CS1998 // async iterator over an in-memory list
    private async IAsyncEnumerable<DeltaPage<DirectoryUser>> UsersDelta(string? link)
    {
        var all = Users.Values.ToList();
        // Pages of 50; a page's nextLink given back goes on from the page after it, as Graph's does.
        var start = link is not null && link.StartsWith(UsersPageLink, StringComparison.Ordinal) ? int.Parse(link[UsersPageLink.Length..], System.Globalization.CultureInfo.InvariantCulture) : 0;
        for (var i = start; i < all.Count; i += 50)
        {
            var last = i + 50 >= all.Count;
            yield return new DeltaPage<DirectoryUser>(all.Skip(i).Take(50).ToList(), last ? "users-delta-link" : null) { NextLink = last ? null : $"{UsersPageLink}{i + 50}" };
        }

        if (all.Count == 0)
        {
            yield return new DeltaPage<DirectoryUser>([], "users-delta-link");
        }
    }

    private const string UsersPageLink = "users-page-";

    private async IAsyncEnumerable<DeltaPage<DirectoryGroup>> GroupsDelta(string? link)
    {
        GroupDeltaReads.Add(link);
        // A page's nextLink given back goes on from the page after it, as Graph does for a run cut off half-way.
        var start = link is null ? 0 : GroupDelta.FindIndex(p => p.NextLink == link) + 1;
        foreach (var page in GroupDelta.Skip(start))
        {
            yield return page;
        }
    }
#pragma warning restore CS1998
}
