using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using static EntraSnow.Connectors.Graph.GraphModelMapping;

namespace EntraSnow.Connectors.Graph;

/// <summary><see cref="IDirectory"/> over the Microsoft Graph SDK. Throttling is waited out by the HTTP pipeline; errors are translated by <see cref="GraphErrors"/>.</summary>
internal sealed partial class GraphDirectory(
    GraphServiceClient client,
    IdentityProtectionPacer identityProtectionPacer,
    IOptions<GraphOptions> options,
    TimeProvider clock,
    ILogger<GraphDirectory> logger) : IDirectory
{
    /// <summary>Graph's limit on requests in one $batch.</summary>
    private const int BatchLimit = 20;

    private const int SignInActivityFallbackPageSize = 120;

    public async Task<DirectoryUser?> GetUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        try
        {
            var user = await GraphErrors.RunAsync("GET user", () => client.Users[userId].GetAsync(c =>
            {
                c.QueryParameters.Select = UserSelect;
                c.QueryParameters.Expand = ["manager($select=id)"];
            }, cancellationToken), cancellationToken);
            return user is null ? null : ToDirectoryUser(user);
        }
        catch (GraphRequestException ex) when (ex.IsNotFound())
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<DirectoryUser>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default)
    {
        var found = new List<DirectoryUser>(userIds.Count);
        foreach (var chunk in userIds.Distinct(StringComparer.OrdinalIgnoreCase).Chunk(BatchLimit))
        {
            found.AddRange(await GetUserBatchAsync(chunk, cancellationToken));
        }

        return found;
    }

    /// <summary>One $batch of up to 20 GETs; ids that no longer exist are left out.</summary>
    private async Task<IReadOnlyList<DirectoryUser>> GetUserBatchAsync(string[] userIds, CancellationToken cancellationToken, string[]? select = null)
    {
        var users = new List<DirectoryUser>(userIds.Length);
        var requests = userIds.Select((userId, i) => (i.ToString(CultureInfo.InvariantCulture), client.Users[userId].ToGetRequestInformation(c =>
        {
            c.QueryParameters.Select = select ?? UserSelect;
            c.QueryParameters.Expand = select is null ? ["manager($select=id)"] : null;
        }))).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);

        await RunBatchAsync(requests, async (response, stepId) =>
            users.Add(ToDirectoryUser(await response.GetResponseByIdAsync<User>(stepId))), cancellationToken);
        return users;
    }

    /// <summary>
    /// Sends up to 20 requests, keyed by step id, as one $batch and hands each 200 to <paramref name="onOk"/> with its key;
    /// 404s are skipped (the object is gone); items Graph throttled (429) or failed transiently (5xx) on their own are sent
    /// again, alone and under the same keys, after their Retry-After or the backoff, so no item is skipped; any other
    /// status fails the call.
    /// </summary>
    private async Task RunBatchAsync(IReadOnlyDictionary<string, RequestInformation> requests, Func<BatchResponseContentCollection, string, Task> onOk, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var pending = requests.Keys.ToList();
        for (var attempt = 0; ; attempt++)
        {
            var current = new BatchRequestContentCollection(client, BatchLimit);
            foreach (var key in pending)
            {
                await current.AddBatchRequestStepAsync(requests[key], key);
            }

            var response = await GraphErrors.RunAsync("POST $batch",
                () => client.Batch.PostAsync(current, cancellationToken), cancellationToken);
            var statuses = await response.GetResponsesStatusCodesAsync();
            var throttled = new Dictionary<string, HttpStatusCode>(StringComparer.Ordinal);
            TimeSpan? wait = null;
            foreach (var (stepId, status) in statuses)
            {
                if (status == HttpStatusCode.OK)
                {
                    await onOk(response, stepId);
                }
                else if (status is HttpStatusCode.TooManyRequests || (int)status >= 500)
                {
                    throttled[stepId] = status;
                    using var item = await response.GetResponseByIdAsync(stepId);
                    var itemWait = Http.ThrottlingHandler.RetryAfter(item, clock) ?? settings.BackoffBase * Math.Pow(2, attempt);
                    wait = wait is null || itemWait > wait ? itemWait : wait;
                }
                else if (status != HttpStatusCode.NotFound)
                {
                    throw new GraphRequestException($"GET in $batch: Graph answered {(int)status}.", (int)status, null);
                }
            }

            if (throttled.Count == 0)
            {
                return;
            }

            if (attempt >= settings.MaxRetries || wait > settings.MaxRetryWait)
            {
                throw new GraphUnavailableException($"$batch: {throttled.Count} request(s) still throttled or failing ({string.Join(", ", throttled.Values.Distinct().Select(v => (int)v))}) after {attempt + 1} attempt(s).", retryAfter: wait);
            }

            logger.LogInformation("Graph throttled or failed {Count} of the batch's requests; retrying them in {Wait}", throttled.Count, wait);
            await Task.Delay(wait ?? TimeSpan.Zero, clock, cancellationToken);
            pending = [.. throttled.Keys];
        }
    }

    public async Task<IReadOnlyList<string>> GetUserGroupIdsAsync(string userId, CancellationToken cancellationToken = default)
    {
        var ids = new List<string>();
        var page = await GraphErrors.RunAsync("GET memberOf", () => client.Users[userId].MemberOf.GetAsync(c =>
        {
            c.QueryParameters.Select = ["id"];
            c.QueryParameters.Top = 999;
        }, cancellationToken), cancellationToken);
        while (page is not null)
        {
            ids.AddRange(page.Value?.OfType<Group>().Select(g => g.Id).OfType<string>() ?? []);
            var next = page.OdataNextLink;
            page = next is null ? null : await GraphErrors.RunAsync("GET memberOf",
                () => client.Users[userId].MemberOf.WithUrl(next).GetAsync(cancellationToken: cancellationToken), cancellationToken);
        }

        return ids;
    }

    public IAsyncEnumerable<DeltaPage<DirectoryUser>> GetUsersDeltaAsync(string? deltaLink, CancellationToken cancellationToken = default) =>
        ReadDeltaAsync("users delta", deltaLink, FetchUsersDeltaAsync, cancellationToken);

    public IAsyncEnumerable<DeltaPage<DirectoryGroup>> GetGroupsDeltaAsync(string? deltaLink, CancellationToken cancellationToken = default) =>
        ReadDeltaAsync("groups delta", deltaLink, FetchGroupsDeltaAsync, cancellationToken);

    private async Task<(IReadOnlyList<DirectoryUser> Items, string? NextLink, string? DeltaLink)> FetchUsersDeltaAsync(string? url, CancellationToken cancellationToken)
    {
        var page = await GraphErrors.RunAsync("GET users delta", () => url is null
            ? client.Users.Delta.GetAsDeltaGetResponseAsync(c => c.QueryParameters.Select = [.. UserSelect, "manager"], cancellationToken)
            : client.Users.Delta.WithUrl(url).GetAsDeltaGetResponseAsync(cancellationToken: cancellationToken), cancellationToken);
        return (Usable(page?.Value, u => u.Id, ToDirectoryUser, "user"), page?.OdataNextLink, page?.OdataDeltaLink);
    }

    private async Task<(IReadOnlyList<DirectoryGroup> Items, string? NextLink, string? DeltaLink)> FetchGroupsDeltaAsync(string? url, CancellationToken cancellationToken)
    {
        var page = await GraphErrors.RunAsync("GET groups delta", () => url is null
            ? client.Groups.Delta.GetAsDeltaGetResponseAsync(c => c.QueryParameters.Select = [.. GroupSelect, "members"], cancellationToken)
            : client.Groups.Delta.WithUrl(url).GetAsDeltaGetResponseAsync(cancellationToken: cancellationToken), cancellationToken);
        return (Usable(page?.Value, g => g.Id, ToDirectoryGroup, "group"), page?.OdataNextLink, page?.OdataDeltaLink);
    }

    /// <summary>
    /// A page's items, without those Graph sent without an id: each is a permanent failure for that item alone (logged),
    /// never a reason to retry or abandon the whole walk.
    /// </summary>
    private List<TOut> Usable<TIn, TOut>(IEnumerable<TIn>? items, Func<TIn, string?> id, Func<TIn, TOut> map, string what)
    {
        var usable = new List<TOut>();
        foreach (var item in items ?? [])
        {
            if (string.IsNullOrEmpty(id(item)))
            {
                logger.LogWarning("Graph returned a {What} without an id in a delta page; skipped (nothing can be provisioned for it)", what);
                continue;
            }

            usable.Add(map(item));
        }

        return usable;
    }

    /// <summary>
    /// Follows nextLinks to the deltaLink. An expired delta or skip token (about 7 days; 410 / syncStateNotFound) restarts
    /// once from scratch, and every page of the restart says so, so the caller reconciles instead of looping on the error.
    /// </summary>
    private async IAsyncEnumerable<DeltaPage<T>> ReadDeltaAsync<T>(
        string what,
        string? deltaLink,
        Func<string?, CancellationToken, Task<(IReadOnlyList<T> Items, string? NextLink, string? DeltaLink)>> fetch,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var url = deltaLink;
        var fullResync = false;
        while (true)
        {
            (IReadOnlyList<T> Items, string? NextLink, string? DeltaLink) page;
            try
            {
                page = await fetch(url, cancellationToken);
            }
            catch (GraphRequestException ex) when (ex.IsExpiredDelta() && !fullResync && url is not null)
            {
                logger.LogWarning("The stored {What} token has expired ({Code}); reading everything again", what, ex.ErrorCode ?? ex.StatusCode.ToString(CultureInfo.InvariantCulture));
                fullResync = true;
                url = null;
                continue;
            }

            var done = page.NextLink is null;
            yield return new DeltaPage<T>(page.Items, done ? page.DeltaLink : null) { IsFullResync = fullResync, NextLink = page.NextLink };
            if (done)
            {
                yield break;
            }

            url = page.NextLink;
        }
    }

    public async Task<DirectoryGroup?> GetGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        try
        {
            var group = await GraphErrors.RunAsync("GET group", () => client.Groups[groupId].GetAsync(
                c => c.QueryParameters.Select = [.. GroupSelect, "isAssignableToRole"], cancellationToken), cancellationToken);
            return group is null ? null : ToDirectoryGroup(group);
        }
        catch (GraphRequestException ex) when (ex.IsNotFound())
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<string>> GetGroupMemberIdsAsync(string groupId, CancellationToken cancellationToken = default) =>
        (await GetGroupMembersAsync(groupId, cancellationToken)).UserIds;

    public async Task<GroupMembers> GetGroupMembersAsync(string groupId, CancellationToken cancellationToken = default)
    {
        List<string> users = [], groups = [];
        var page = await GraphErrors.RunAsync("GET group members", () => client.Groups[groupId].Members.GetAsync(c =>
        {
            c.QueryParameters.Select = ["id"];
            c.QueryParameters.Top = 999;
        }, cancellationToken), cancellationToken);
        while (page is not null)
        {
            users.AddRange(page.Value?.OfType<User>().Select(u => u.Id).OfType<string>() ?? []);
            groups.AddRange(page.Value?.OfType<Group>().Select(g => g.Id).OfType<string>() ?? []);
            var next = page.OdataNextLink;
            page = next is null ? null : await GraphErrors.RunAsync("GET group members",
                () => client.Groups[groupId].Members.WithUrl(next).GetAsync(cancellationToken: cancellationToken), cancellationToken);
        }

        return new GroupMembers(users, groups);
    }

    /// <summary>
    /// signInActivity filters cannot be combined with other filters, so only the cutoff goes to Graph and the caller
    /// applies the rest. Graph's filter never matches users without sign-in activity, so a second pass lists accounts
    /// created before the cutoff with their signInActivity and keeps those that never signed in.
    /// </summary>
    public async IAsyncEnumerable<DirectoryUser> GetUsersSignedInBeforeAsync(DateTimeOffset cutoff, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var at = cutoff.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var pageSize = options.Value.SignInActivityPageSize;
        UserCollectionResponse? page;
        try
        {
            page = await FirstSignInPageAsync($"signInActivity/lastSuccessfulSignInDateTime le {at}", pageSize, cancellationToken);
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 400 && pageSize > SignInActivityFallbackPageSize)
        {
            // Tenants that still cap signInActivity pages at 120 refuse 500.
            logger.LogInformation("Graph refused {PageSize} users a page with signInActivity; falling back to {Fallback}",
                pageSize, SignInActivityFallbackPageSize);
            pageSize = SignInActivityFallbackPageSize;
            page = await FirstSignInPageAsync($"signInActivity/lastSuccessfulSignInDateTime le {at}", pageSize, cancellationToken);
        }

        await foreach (var user in FollowAsync(page, cancellationToken))
        {
            if (user.LastSuccessfulSignIn is { } last && last <= cutoff)
            {
                yield return user;
            }
        }

        page = await FirstSignInPageAsync($"createdDateTime le {at}", pageSize, cancellationToken);
        await foreach (var user in FollowAsync(page, cancellationToken))
        {
            if (user.LastSuccessfulSignIn is null)
            {
                yield return user;
            }
        }
    }

    private async IAsyncEnumerable<DirectoryUser> FollowAsync(UserCollectionResponse? page, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (page is not null)
        {
            foreach (var user in page.Value ?? [])
            {
                yield return ToDirectoryUser(user);
            }

            var next = page.OdataNextLink;
            page = next is null ? null : await GraphErrors.RunAsync("GET users by sign-in",
                () => client.Users.WithUrl(next).GetAsync(cancellationToken: cancellationToken), cancellationToken);
        }
    }

    private Task<UserCollectionResponse?> FirstSignInPageAsync(string filter, int top, CancellationToken cancellationToken) =>
        GraphErrors.RunAsync("GET users by sign-in", () => client.Users.GetAsync(c =>
        {
            c.QueryParameters.Filter = filter;
            c.QueryParameters.Select = [.. UserSelect, "signInActivity"];
            c.QueryParameters.Top = top;
        }, cancellationToken), cancellationToken);

    public async IAsyncEnumerable<RiskDetectionPage> GetRiskDetectionPagesAsync(
        DateTimeOffset updatedAfter, string? resumeLink = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // lastUpdatedDateTime is never before detectedDateTime, so this catches new detections and changed ones.
        var filter = $"lastUpdatedDateTime gt {updatedAfter.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture)}";
        var next = resumeLink;
        var first = resumeLink is null;
        while (first || next is not null)
        {
            var link = next;
            var page = await identityProtectionPacer.RunAsync(() => GraphErrors.RunAsync("GET riskDetections", () => link is null
                ? client.IdentityProtection.RiskDetections.GetAsync(c =>
                {
                    c.QueryParameters.Filter = filter;
                    c.QueryParameters.Top = 500;
                }, cancellationToken)
                : client.IdentityProtection.RiskDetections.WithUrl(link).GetAsync(cancellationToken: cancellationToken), cancellationToken), cancellationToken);
            first = false;
            next = page?.OdataNextLink;
            yield return new RiskDetectionPage(page?.Value?.Select(ToRiskDetection).ToList() ?? [], next);
        }
    }

    public Task ResetPasswordAsync(string userId, string newPassword, bool forceChangeAtNextSignIn, CancellationToken cancellationToken = default) =>
        GraphErrors.RunAsync("PATCH user passwordProfile", () => client.Users[userId].PatchAsync(new User
        {
            PasswordProfile = new PasswordProfile
            {
                Password = newPassword,
                ForceChangePasswordNextSignIn = forceChangeAtNextSignIn,
            },
        }, cancellationToken: cancellationToken), cancellationToken);

    public async Task<TemporaryAccessPass> CreateTemporaryAccessPassAsync(string userId, int lifetimeInMinutes, bool isUsableOnce, CancellationToken cancellationToken = default)
    {
        var created = await GraphErrors.RunAsync("POST temporaryAccessPassMethods",
            () => client.Users[userId].Authentication.TemporaryAccessPassMethods.PostAsync(new TemporaryAccessPassAuthenticationMethod
            {
                LifetimeInMinutes = lifetimeInMinutes,
                IsUsableOnce = isUsableOnce,
            }, cancellationToken: cancellationToken), cancellationToken);
        if (created?.Id is null || created.TemporaryAccessPass is null)
        {
            throw new GraphUnavailableException("Graph created a Temporary Access Pass but returned no pass.");
        }

        return new TemporaryAccessPass(created.Id, created.TemporaryAccessPass, created.StartDateTime,
            created.LifetimeInMinutes ?? lifetimeInMinutes, created.IsUsableOnce ?? isUsableOnce);
    }

    public Task RevokeSignInSessionsAsync(string userId, CancellationToken cancellationToken = default) =>
        GraphErrors.RunAsync("POST revokeSignInSessions",
            () => client.Users[userId].RevokeSignInSessions.PostAsRevokeSignInSessionsPostResponseAsync(cancellationToken: cancellationToken),
            cancellationToken);

    public async Task<bool> AddGroupMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default)
    {
        try
        {
            await GraphErrors.RunAsync("POST group member", () => client.Groups[groupId].Members.Ref.PostAsync(new ReferenceCreate
            {
                OdataId = $"{options.Value.BaseUri}/directoryObjects/{Uri.EscapeDataString(userId)}",
            }, cancellationToken: cancellationToken), cancellationToken);
            return true;
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 400 && ex.Message.Contains("already exist", StringComparison.OrdinalIgnoreCase))
        {
            logger.LogDebug("User {UserId} is already a member of group {GroupId}", userId, groupId);
            return false;
        }
    }

    public async Task<bool> RemoveGroupMemberAsync(string groupId, string userId, CancellationToken cancellationToken = default)
    {
        try
        {
            await GraphErrors.RunAsync("DELETE group member",
                () => client.Groups[groupId].Members[userId].Ref.DeleteAsync(cancellationToken: cancellationToken), cancellationToken);
            return true;
        }
        catch (GraphRequestException ex) when (ex.IsNotFound())
        {
            logger.LogDebug("User {UserId} was not a member of group {GroupId}", userId, groupId);
            return false;
        }
    }
}
