namespace EntraSnow.Connectors.Graph;

/// <summary>
/// Entra ID as the flows read and change it, through Microsoft Graph. Throttling (429/503) is waited out inside;
/// what still fails surfaces as <see cref="GraphUnavailableException"/> (transient) or <see cref="GraphRequestException"/>.
/// </summary>
public interface IDirectory
{
    /// <summary>The user's current state with the mapped attributes and manager; null when the user no longer exists (permanently deleted).</summary>
    Task<DirectoryUser?> GetUserAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Several users in <c>$batch</c> calls of up to 20 (ids that no longer exist are left out); per-item 429s are retried.</summary>
    Task<IReadOnlyList<DirectoryUser>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default);

    /// <summary>Object ids of the groups the user is a direct member of.</summary>
    Task<IReadOnlyList<string>> GetUserGroupIdsAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Users delta, from scratch (<paramref name="deltaLink"/> null) or from a stored link; an expired link restarts from scratch.</summary>
    IAsyncEnumerable<DeltaPage<DirectoryUser>> GetUsersDeltaAsync(string? deltaLink, CancellationToken cancellationToken = default);

    /// <summary>Groups delta with <c>members</c>, from a stored delta link or a page's nextLink (null: from scratch); an expired link restarts from scratch (the pages say so).</summary>
    IAsyncEnumerable<DeltaPage<DirectoryGroup>> GetGroupsDeltaAsync(string? deltaLink, CancellationToken cancellationToken = default);

    Task<DirectoryGroup?> GetGroupAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>Object ids of the group's direct user members.</summary>
    Task<IReadOnlyList<string>> GetGroupMemberIdsAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>The group's direct members as Graph lists them now: users, and groups nested in it.</summary>
    Task<GroupMembers> GetGroupMembersAsync(string groupId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This directory cannot list a group's members with nested groups.");

    /// <summary>Users whose last successful sign-in is before the cutoff, then users created before the cutoff who never signed in; paged 500 at a time (120 where Graph refuses 500).</summary>
    IAsyncEnumerable<DirectoryUser> GetUsersSignedInBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pages of accounts that may be inactive, read in one pass over the directory: those whose last successful sign-in is
    /// before <see cref="InactiveCandidateQuery.SignedInBefore"/>, and those created before
    /// <see cref="InactiveCandidateQuery.CreatedBefore"/> that never signed in. Each page carries a continuation that
    /// <paramref name="resumeFrom"/> accepts, so a cut-off sweep resumes.
    /// </summary>
    IAsyncEnumerable<InactiveCandidatePage> GetInactiveCandidatesAsync(InactiveCandidateQuery query, string? resumeFrom, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This directory cannot list inactive accounts.");

    /// <summary>
    /// Accounts whose review details fill one Graph call: 20 requests a $batch, two per <c>in</c> list of 15 (manager and
    /// memberships are expanded separately). A caller that gathers this many before asking pays one call per batch.
    /// </summary>
    const int ReviewDetailsPerCall = 150;

    /// <summary>Manager and direct group count of each user, in $batch calls (ids that no longer exist are left out).</summary>
    Task<IReadOnlyDictionary<string, ReviewDetails>> GetReviewDetailsAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This directory cannot read review details.");

    /// <summary>The tenant's subscribed SKUs: skuId to skuPartNumber (e.g. <c>ENTERPRISEPACK</c>).</summary>
    Task<IReadOnlyDictionary<string, string>> GetSubscribedSkuNamesAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This directory cannot read subscribed SKUs.");

    /// <summary>Users with their sign-in activity and account state, in $batch calls (ids that no longer exist are left out).</summary>
    Task<IReadOnlyList<DirectoryUser>> GetSignInStatesAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This directory cannot read sign-in states.");

    /// <summary>
    /// Directory audit entries that name <see cref="DirectoryAuditQuery.TargetId"/> in a time window, newest first, capped
    /// (AuditLog.Read.All; without it Graph answers 403, a <see cref="GraphRequestException"/>).
    /// </summary>
    Task<IReadOnlyList<DirectoryAuditEntry>> GetDirectoryAuditsAsync(DirectoryAuditQuery query, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This directory cannot read the audit log.");

    /// <summary>PATCH accountEnabled=false.</summary>
    Task DisableUserAsync(string userId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This directory cannot disable users.");

    /// <summary>
    /// Risk detections updated after <paramref name="updatedAfter"/>, one page per Graph request as Graph serves them
    /// (in no promised order), within the 1 request/s identity-protection limit. <paramref name="resumeLink"/> continues
    /// a run cut off half-way from the page after the last one its caller stored; one Graph no longer accepts throws
    /// <see cref="GraphRequestException"/>.
    /// </summary>
    IAsyncEnumerable<RiskDetectionPage> GetRiskDetectionPagesAsync(DateTimeOffset updatedAfter, string? resumeLink = null, CancellationToken cancellationToken = default);

    /// <summary>PATCH passwordProfile. The password is never logged.</summary>
    Task ResetPasswordAsync(string userId, string newPassword, bool forceChangeAtNextSignIn, CancellationToken cancellationToken = default);

    Task<TemporaryAccessPass> CreateTemporaryAccessPassAsync(string userId, int lifetimeInMinutes, bool isUsableOnce, CancellationToken cancellationToken = default);

    /// <summary>DELETE the user's Temporary Access Pass method <paramref name="methodId"/> (the pass stops working); already gone is not an error.</summary>
    Task DeleteTemporaryAccessPassAsync(string userId, string methodId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This directory cannot delete Temporary Access Passes.");

    Task RevokeSignInSessionsAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Adds a member; already a member is not an error.</summary>
    /// <returns>true when the member was added; false when they were a member already.</returns>
    Task<bool> AddGroupMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default);

    /// <summary>Removes a member; not a member is not an error.</summary>
    /// <returns>true when the member was removed; false when they were not a member.</returns>
    Task<bool> RemoveGroupMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default);
}

/// <summary>Graph subscriptions (change notifications).</summary>
public interface IGraphSubscriptions
{
    Task<IReadOnlyList<GraphSubscription>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates the subscription; Graph validates the notification URL first. A 409 for a duplicate returns the existing one.</summary>
    Task<GraphSubscription> CreateAsync(SubscriptionRequest request, CancellationToken cancellationToken = default);

    Task<GraphSubscription> RenewAsync(string subscriptionId, DateTimeOffset newExpiration, CancellationToken cancellationToken = default);

    Task ReauthorizeAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>Deletes; already gone is not an error.</summary>
    Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default);
}

/// <summary>Graph could not be reached or kept throttling past our patience: retry later.</summary>
public sealed class GraphUnavailableException(string message, Exception? inner = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>Graph refused the request (4xx other than throttling). Carries Graph's error code, e.g. <c>Authorization_RequestDenied</c>.</summary>
public sealed class GraphRequestException(string message, int statusCode, string? errorCode, Exception? inner = null)
    : Exception(message, inner)
{
    public int StatusCode { get; } = statusCode;
    public string? ErrorCode { get; } = errorCode;
}

/// <summary>Graph returned an item EntraSnow cannot use (a user without an id): retrying cannot fix it, for that item only.</summary>
public sealed class GraphMalformedItemException(string message) : Exception(message);
