using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// The Graph emulator's state and its admin verbs. Changes made here (or through the API) are pushed, like Graph does,
/// as change notifications to every matching subscription's notificationUrl. Tests drive it through these methods;
/// the admin HTTP routes call the same ones.
/// </summary>
public sealed partial class GraphEmulator : IDisposable
{
    public const string NotificationsHttpClient = "EntraSnow.Sandbox.Graph.Notifications";

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly ILogger<GraphEmulator> _logger;
    private readonly ConcurrentQueue<NotificationDelivery> _deliveries = new();
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
    private long _requests;
    private long _userReads;
    // Where sequence numbers start in a new emulator database (the magnitude Graph uses); they continue across restarts.
    private const long FirstNotificationSequence = 638_678_480_202_455_800;

    public GraphEmulator(IOptions<GraphEmulatorOptions> options, IHttpClientFactory httpClientFactory, TimeProvider clock, ILogger<GraphEmulator> logger)
    {
        Options = options.Value;
        _httpClientFactory = httpClientFactory;
        Clock = clock;
        _logger = logger;
        Store = new GraphStore(Options.DatabasePath);
        IdentityProtection = new IdentityProtectionLimit(Options, clock);
        _tokenKey = new Lazy<byte[]>(LoadOrCreateTokenKey);
    }

    private readonly Lazy<byte[]> _tokenKey;

    public GraphEmulatorOptions Options { get; }

    public GraphFaults Faults { get; } = new();

    public IdentityProtectionLimit IdentityProtection { get; }

    /// <summary>Mail sent through sendMail and directory role assignments (in memory).</summary>
    public GraphMailboxAndRoles MailboxAndRoles { get; } = new();

    internal GraphStore Store { get; }

    internal TimeProvider Clock { get; }

    /// <summary>API requests received (top-level HTTP requests; a $batch counts once).</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Every POST made to subscribers, oldest first.</summary>
    public IReadOnlyList<NotificationDelivery> Deliveries => [.. _deliveries];

    public void Dispose() => Store.Dispose();

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    /// <summary>Reads of one user by id (<c>GET /users/{id}</c>), on their own or inside a <c>$batch</c>: what a sync costs per user.</summary>
    public long UserReadCount => Interlocked.Read(ref _userReads);

    internal GraphResponse CountUserRead(GraphResponse response)
    {
        Interlocked.Increment(ref _userReads);
        return response;
    }

    // ---- seed and scenario verbs -------------------------------------------------------------------------------

    /// <summary>Creates users, groups, memberships, sign-in activity and risk detections, deterministically from <see cref="GraphSeedSpec.Seed"/>. Sends no notifications.</summary>
    public GraphSeedResult Seed(GraphSeedSpec spec) => GraphSeed.Generate(this, spec);

    /// <summary>The stored user as Graph would return it with every property, or null (also when soft-deleted).</summary>
    public JsonObject? GetUser(string userId) => Store.Read(s => s.GetUser(userId) is { Removed: null } row ? (JsonObject)row.Doc.DeepClone() : null);

    public int UserCount => Store.Read(s => s.CountUsers());

    /// <summary>The stored group as Graph would return it with every property (members not included), or null (also when deleted).</summary>
    public JsonObject? GetGroup(string groupId) => Store.Read(s => s.GetGroup(groupId) is { Removed: null } row ? (JsonObject)row.Doc.DeepClone() : null);

    /// <summary>Creates a user and notifies subscribers (Graph reports creations as <c>updated</c>).</summary>
    public async Task<string> CreateUserAsync(string displayName, string? userPrincipalName = null, CancellationToken cancellationToken = default)
    {
        var id = Guid.NewGuid().ToString();
        var upn = userPrincipalName ?? $"{new string(displayName.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant()}.{id[..4]}@contoso.example";
        var doc = new JsonObject
        {
            ["id"] = id,
            ["displayName"] = displayName,
            ["userPrincipalName"] = upn,
            ["mail"] = upn,
            ["accountEnabled"] = true,
            ["userType"] = "Member",
            ["businessPhones"] = new JsonArray(),
            ["createdDateTime"] = Timestamp(Clock.GetUtcNow()),
        };
        Store.InTransaction(s =>
        {
            s.PutUser(id, doc, null, null, s.NextVersion());
            return 0;
        });
        await NotifyAsync("Users", id, "updated", cancellationToken);
        return id;
    }

    /// <summary>Changes a user's properties (Graph names, e.g. <c>accountEnabled</c>, <c>displayName</c>) and notifies subscribers.</summary>
    public async Task<IReadOnlyList<NotificationDelivery>> ChangeUserAsync(string userId, JsonObject changes, CancellationToken cancellationToken = default)
    {
        if (!ApplyUserPatch(userId, changes))
        {
            throw new KeyNotFoundException($"No user {userId} in the Graph emulator.");
        }

        return await NotifyAsync("Users", userId, "updated", cancellationToken);
    }

    public Task<IReadOnlyList<NotificationDelivery>> DisableUserAsync(string userId, CancellationToken cancellationToken = default) =>
        ChangeUserAsync(userId, new JsonObject { ["accountEnabled"] = false }, cancellationToken);

    public Task<IReadOnlyList<NotificationDelivery>> RenameUserAsync(string userId, string displayName, CancellationToken cancellationToken = default) =>
        ChangeUserAsync(userId, new JsonObject { ["displayName"] = displayName }, cancellationToken);

    /// <summary>Soft delete (restorable): delta lists the user as removed "changed"; the notification is <c>updated</c>.</summary>
    public async Task<IReadOnlyList<NotificationDelivery>> SoftDeleteUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (!RemoveUser(userId, "changed"))
        {
            throw new KeyNotFoundException($"No user {userId} in the Graph emulator.");
        }

        return await NotifyAsync("Users", userId, "updated", cancellationToken);
    }

    /// <summary>Permanent delete: delta lists the user as removed "deleted"; the notification is <c>deleted</c>.</summary>
    public async Task<IReadOnlyList<NotificationDelivery>> HardDeleteUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (!RemoveUser(userId, "deleted"))
        {
            throw new KeyNotFoundException($"No user {userId} in the Graph emulator.");
        }

        return await NotifyAsync("Users", userId, "deleted", cancellationToken);
    }

    public Task<string> CreateGroupAsync(string displayName, CancellationToken cancellationToken = default) =>
        CreateGroupAsync(displayName, Guid.NewGuid().ToString(), isAssignableToRole: false, cancellationToken);

    /// <summary>A security group; <paramref name="isAssignableToRole"/> makes it one directory roles can be assigned to (fixed for its life, as in Entra ID).</summary>
    public Task<string> CreateGroupAsync(string displayName, bool isAssignableToRole, CancellationToken cancellationToken = default) =>
        CreateGroupAsync(displayName, Guid.NewGuid().ToString(), isAssignableToRole, cancellationToken);

    /// <summary>A group with a chosen object id (e.g. one a setting names before the group exists).</summary>
    public Task<string> CreateGroupAsync(string displayName, string id, CancellationToken cancellationToken = default) =>
        CreateGroupAsync(displayName, id, isAssignableToRole: false, cancellationToken);

    private async Task<string> CreateGroupAsync(string displayName, string id, bool isAssignableToRole, CancellationToken cancellationToken)
    {
        Store.InTransaction(s =>
        {
            s.PutGroup(id, GroupDoc(id, displayName, null, isAssignableToRole), null, s.NextVersion());
            return 0;
        });
        await NotifyAsync("Groups", id, "updated", cancellationToken);
        return id;
    }

    /// <summary>Adds a member as the sandbox's administrator (<see cref="Administrator"/> in the audit log) and notifies.</summary>
    public Task<IReadOnlyList<NotificationDelivery>> AddGroupMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default) =>
        AddGroupMemberAsync(groupId, userId, Administrator, cancellationToken);

    /// <summary>Removes a member as the sandbox's administrator and notifies.</summary>
    public Task<IReadOnlyList<NotificationDelivery>> RemoveGroupMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default) =>
        RemoveGroupMemberAsync(groupId, userId, Administrator, cancellationToken);

    public IReadOnlyList<string> GroupMemberIds(string groupId) => Store.Read(s => s.MemberIds(groupId, null, int.MaxValue));

    /// <summary>Adds a risk detection (there are no notifications for these: EntraSnow polls).</summary>
    public string AddRiskDetection(string userId, string riskLevel = "high", string riskEventType = "unfamiliarFeatures", DateTimeOffset? detectedAt = null)
    {
        var at = detectedAt ?? Clock.GetUtcNow();
        var id = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        Store.InTransaction(s =>
        {
            var user = s.GetUser(userId);
            s.PutRiskDetection(id, GraphSeed.RiskDoc(id, userId, user?.Doc["userPrincipalName"]?.GetValue<string>(),
                user?.Doc["displayName"]?.GetValue<string>(), riskEventType, riskLevel, at, "203.0.113.47"));
            return 0;
        });
        return id;
    }

    /// <summary>What the last password reset set: when, and whether a change is forced at next sign-in. The password itself is never kept.</summary>
    public (DateTimeOffset? LastPasswordChange, bool ForceChangeAtNextSignIn) PasswordState(string userId) => Store.Read<(DateTimeOffset?, bool)>(s =>
    {
        var row = s.GetUser(userId);
        var changed = row?.Doc["lastPasswordChangeDateTime"]?.GetValue<string>();
        return (changed is null ? null : DateTimeOffset.Parse(changed, CultureInfo.InvariantCulture), row?.ForceChange ?? false);
    });

    public int AccessPassCount(string userId) => Store.Read(s => s.CountAccessPasses(userId));

    /// <summary>Invalidates every delta token handed out so far: the next delta call with one answers 410 syncStateNotFound.</summary>
    public void ExpireDeltaTokens() => Store.InTransaction(s =>
    {
        s.SetMeta("deltaEpoch", (DeltaEpoch(s) + 1).ToString(CultureInfo.InvariantCulture));
        return 0;
    });

    internal static long DeltaEpoch(GraphStore.Session session) =>
        long.TryParse(session.GetMeta("deltaEpoch"), CultureInfo.InvariantCulture, out var epoch) ? epoch : 1;

    /// <summary>The subscriptions as stored (client state removed).</summary>
    public IReadOnlyList<JsonObject> Subscriptions => Store.Read(s => s.ListSubscriptions())
        .Select(doc =>
        {
            doc.Remove("clientState");
            return doc;
        }).ToList();

    /// <summary>Sends a lifecycle notification (reauthorizationRequired, subscriptionRemoved, missed) to the subscription's lifecycleNotificationUrl.</summary>
    public async Task<NotificationDelivery> SendLifecycleNotificationAsync(string subscriptionId, string lifecycleEvent, CancellationToken cancellationToken = default)
    {
        var subscription = Store.Read(s => s.GetSubscription(subscriptionId))
            ?? throw new KeyNotFoundException($"No subscription {subscriptionId} in the Graph emulator.");
        var url = subscription["lifecycleNotificationUrl"]?.GetValue<string>()
            ?? throw new InvalidOperationException($"Subscription {subscriptionId} has no lifecycleNotificationUrl.");
        if (lifecycleEvent == "subscriptionRemoved")
        {
            Store.InTransaction(s => s.DeleteSubscription(subscriptionId));
        }

        var payload = new JsonObject
        {
            ["value"] = new JsonArray(new JsonObject
            {
                ["subscriptionId"] = subscriptionId,
                ["subscriptionExpirationDateTime"] = subscription["expirationDateTime"]?.DeepClone(),
                ["tenantId"] = Options.TenantId,
                ["clientState"] = subscription["clientState"]?.DeepClone(),
                ["lifecycleEvent"] = lifecycleEvent,
            }),
        };
        return await PostAsync(subscriptionId, url, "lifecycle", subscription["resource"]?.GetValue<string>() ?? "", lifecycleEvent, payload, cancellationToken);
    }

    /// <summary>Waits until notifications triggered by API calls (sent in the background, as Graph does) have been delivered.</summary>
    public Task WhenNotificationsDeliveredAsync() => Task.WhenAll(_inFlight.Keys);

    // ---- domain operations shared by the API and the admin verbs --------------------------------------------------

    internal static JsonObject GroupDoc(string id, string displayName, string? description, bool isAssignableToRole = false) => new()
    {
        ["id"] = id,
        ["displayName"] = displayName,
        ["description"] = description,
        ["mail"] = null,
        ["mailEnabled"] = false,
        ["securityEnabled"] = true,
        ["groupTypes"] = new JsonArray(),
        ["isAssignableToRole"] = isAssignableToRole,
    };

    internal static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);

    /// <summary>PATCH semantics: listed properties replace stored ones; <c>manager</c> is a reference, passwordProfile is never stored.</summary>
    internal bool ApplyUserPatch(string userId, JsonObject patch) => Store.InTransaction(s =>
    {
        var row = s.GetUser(userId);
        if (row is null || row.Removed is not null)
        {
            return false;
        }

        var doc = row.Doc;
        bool? forceChange = null;
        foreach (var (name, value) in patch)
        {
            if (name == "passwordProfile")
            {
                doc["lastPasswordChangeDateTime"] = Timestamp(Clock.GetUtcNow());
                forceChange = value?["forceChangePasswordNextSignIn"]?.GetValue<bool>() ?? true;
            }
            else if (name != "id")
            {
                doc[name] = value?.DeepClone();
            }
        }

        s.PutUser(userId, doc, row.ManagerId, null, s.NextVersion(), forceChange);
        return true;
    });

    /// <summary>Sets (or clears) a user's manager, as PUT /users/{id}/manager/$ref does.</summary>
    /// <summary>The object id of the user's manager, as <c>/users/{id}/manager</c> would answer (null: none).</summary>
    public string? GetUserManager(string userId) => Store.Read(s => s.GetUser(userId) is { Removed: null } row ? row.ManagerId : null);

    public bool SetUserManager(string userId, string? managerId) => SetManager(userId, managerId);

    internal bool SetManager(string userId, string? managerId) => Store.InTransaction(s =>
    {
        var row = s.GetUser(userId);
        if (row is null || row.Removed is not null)
        {
            return false;
        }

        s.PutUser(userId, row.Doc, managerId, null, s.NextVersion());
        return true;
    });

    internal bool RemoveUser(string userId, string reason) => Store.InTransaction(s =>
    {
        var row = s.GetUser(userId);
        if (row is null || (row.Removed is not null && reason != "deleted"))
        {
            return false;
        }

        var version = s.NextVersion();
        s.PutUser(userId, row.Doc, row.ManagerId, reason, version);
        foreach (var groupId in s.GroupIdsOf(userId))
        {
            s.RemoveMember(groupId, userId, version);
            s.TouchGroup(groupId, version);
        }

        return true;
    });

    /// <summary>Null on success; otherwise why not ("notFound", "exists", "notMember"). A change is audited as made <paramref name="by"/>.</summary>
    internal string? ChangeMembership(string groupId, string userId, bool add, AuditInitiator by) => Store.InTransaction(s =>
    {
        if (s.GetGroup(groupId) is not { Removed: null } group)
        {
            return "notFound";
        }

        // A member is a user or a group nested in this one.
        if (add && s.GetUser(userId) is not { Removed: null } && (s.GetGroup(userId) is not { Removed: null } || userId == groupId))
        {
            return "notFound";
        }

        var version = s.NextVersion();
        var changed = add ? s.AddMember(groupId, userId, version) : s.RemoveMember(groupId, userId, version);
        if (!changed)
        {
            return add ? "exists" : "notMember";
        }

        s.TouchGroup(groupId, version);
        AuditMembership(s, group, userId, add, by);
        return null;
    });

    private byte[] LoadOrCreateTokenKey() => Store.InTransaction(s =>
    {
        if (s.GetMeta("tokenKey") is { } stored)
        {
            return Convert.FromBase64String(stored);
        }

        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        s.SetMeta("tokenKey", Convert.ToBase64String(key));
        return key;
    });

    // ---- notifications ---------------------------------------------------------------------------------------------

    /// <summary>Notifies in the background (API-originated changes: Graph does not hold the caller's request for delivery).</summary>
    internal void NotifyInBackground(string collection, string id, string changeType)
    {
        var task = Task.Run(() => NotifyAsync(collection, id, changeType, CancellationToken.None));
        _inFlight[task] = 0;
        _ = task.ContinueWith(t => _inFlight.TryRemove(t, out _), TaskScheduler.Default);
    }

    /// <summary>POSTs a change notification for <c>{collection}/{id}</c> to every subscription on that collection for that change type.</summary>
    internal async Task<IReadOnlyList<NotificationDelivery>> NotifyAsync(string collection, string id, string changeType, CancellationToken cancellationToken)
    {
        var subscriptions = Store.Read(s => s.ListSubscriptions())
            .Where(sub => string.Equals(sub["resource"]?.GetValue<string>().Trim('/'), collection, StringComparison.OrdinalIgnoreCase)
                && (sub["changeType"]?.GetValue<string>() ?? "").Split(',').Contains(changeType, StringComparer.OrdinalIgnoreCase)
                && sub["notificationUrl"]?.GetValue<string>() is { } url && !url.StartsWith("EventGrid:", StringComparison.OrdinalIgnoreCase))
            .ToList();
        var deliveries = new List<NotificationDelivery>();
        foreach (var subscription in subscriptions)
        {
            var resource = $"{collection}/{id}";
            var resourceData = new JsonObject
            {
                ["@odata.type"] = collection == "Users" ? "#Microsoft.Graph.User" : "#Microsoft.Graph.Group",
                ["@odata.id"] = resource,
                ["id"] = id,
                ["organizationId"] = Options.TenantId,
            };
            if (changeType != "deleted")
            {
                resourceData["eventTime"] = Timestamp(Clock.GetUtcNow());
                resourceData["sequenceNumber"] = NextNotificationSequence();
            }

            var payload = new JsonObject
            {
                ["value"] = new JsonArray(new JsonObject
                {
                    ["changeType"] = changeType,
                    ["clientState"] = subscription["clientState"]?.DeepClone(),
                    ["resource"] = resource,
                    ["resourceData"] = resourceData,
                    ["subscriptionExpirationDateTime"] = subscription["expirationDateTime"]?.DeepClone(),
                    ["subscriptionId"] = subscription["id"]?.DeepClone(),
                    ["tenantId"] = Options.TenantId,
                }),
            };
            deliveries.Add(await PostAsync(subscription["id"]!.GetValue<string>(), subscription["notificationUrl"]!.GetValue<string>(),
                "change", resource, changeType, payload, cancellationToken));
        }

        return deliveries;
    }

    /// <summary>Stored with the directory, so a restarted emulator never repeats a number (the intake dedupes on it).</summary>
    private long NextNotificationSequence() => Store.InTransaction(s =>
    {
        var next = (long.TryParse(s.GetMeta("notification-sequence"), out var last) ? last : FirstNotificationSequence) + 1;
        s.SetMeta("notification-sequence", next.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return next;
    });

    private async Task<NotificationDelivery> PostAsync(string subscriptionId, string url, string kind, string resource, string changeType, JsonObject payload, CancellationToken cancellationToken)
    {
        int status;
        try
        {
            using var client = _httpClientFactory.CreateClient(NotificationsHttpClient);
            using var response = await client.PostAsJsonAsync(url, payload, cancellationToken);
            status = (int)response.StatusCode;
        }
        catch (HttpRequestException ex)
        {
            _logger.LogWarning("Could not deliver a {Kind} notification for subscription {SubscriptionId}: {Error}", kind, subscriptionId, ex.HttpRequestError);
            status = 0;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            status = 0;
        }

        var delivery = new NotificationDelivery(subscriptionId, url, kind, resource, changeType, status, Clock.GetUtcNow());
        _deliveries.Enqueue(delivery);
        RememberForRedelivery(delivery, payload);
        return delivery;
    }

    /// <summary>Graph's handshake: POST {url}?validationToken=… and expect 200 with the token echoed as text/plain within the timeout.</summary>
    internal async Task<bool> ValidateEndpointAsync(string url, CancellationToken cancellationToken)
    {
        var token = $"Validation: Testing client application reachability for subscription Request-Id: {Guid.NewGuid()}";
        var separator = url.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.ValidationTimeout);
        int status;
        var ok = false;
        try
        {
            using var client = _httpClientFactory.CreateClient(NotificationsHttpClient);
            using var content = new StringContent("", System.Text.Encoding.UTF8, "text/plain");
            using var response = await client.PostAsync(new Uri($"{url}{separator}validationToken={Uri.EscapeDataString(token)}"), content, timeout.Token);
            status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            ok = status == 200 && body == token
                && response.Content.Headers.ContentType?.MediaType == "text/plain";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            status = 0;
        }

        _deliveries.Enqueue(new NotificationDelivery("", url, "validation", "", "", status, Clock.GetUtcNow()));
        return ok;
    }
}
