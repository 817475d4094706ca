using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using static EntraSnow.Connectors.Graph.GraphModelMapping;

namespace EntraSnow.Connectors.Graph;

/// <summary>The reads the inactive-account sweep needs: resumable sign-in pages, review details, SKU names; and disabling an account.</summary>
internal sealed partial class GraphDirectory
{
    private const string SignedInPass = "signedIn";
    private const string CreatedPass = "created";

    private static readonly string[] SweepSelect =
        [.. UserSelect, "signInActivity", "createdDateTime", "assignedLicenses", "employeeType", "companyName"];

    /// <summary>
    /// Two passes, each with one filter, since Graph refuses a signInActivity filter combined with anything else, and its
    /// filter never matches accounts without sign-in activity. A continuation is the pass and the nextLink to read next;
    /// a nextLink Graph no longer accepts restarts that pass (the caller's writes are idempotent).
    /// </summary>
    public async IAsyncEnumerable<InactiveCandidatePage> GetInactiveCandidatesAsync(
        InactiveCandidateQuery query, string? resumeFrom, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var select = SweepSelect.Concat(query.ExtraSelect).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var (pass, link) = ParseContinuation(resumeFrom);
        var pageSize = options.Value.SignInActivityPageSize;
        if (pass == SignedInPass)
        {
            var filter = $"signInActivity/lastSuccessfulSignInDateTime le {ODataTime(query.SignedInBefore)}";
            UserCollectionResponse? page;
            (page, pageSize) = await FirstOrResumedPageAsync(filter, select, pageSize, link, cancellationToken);
            while (page is not null)
            {
                var users = (page.Value ?? []).Select(ToDirectoryUser)
                    .Where(u => u.LastSuccessfulSignIn is { } last && last <= query.SignedInBefore).ToList();
                var next = page.OdataNextLink;
                yield return new InactiveCandidatePage(users, next is null ? CreatedPass + "|" : SignedInPass + "|" + next);
                page = next is null ? null : await NextSignInPageAsync(next, cancellationToken);
            }

            link = null;
        }

        var createdFilter = $"createdDateTime le {ODataTime(query.CreatedBefore)}";
        var (created, _) = await FirstOrResumedPageAsync(createdFilter, select, pageSize, link, cancellationToken);
        while (created is not null)
        {
            var users = (created.Value ?? []).Select(ToDirectoryUser).Where(u => u.LastSuccessfulSignIn is null).ToList();
            var next = created.OdataNextLink;
            yield return new InactiveCandidatePage(users, next is null ? null : CreatedPass + "|" + next);
            created = next is null ? null : await NextSignInPageAsync(next, cancellationToken);
        }
    }

    private static (string Pass, string? Link) ParseContinuation(string? continuation)
    {
        if (string.IsNullOrEmpty(continuation))
        {
            return (SignedInPass, null);
        }

        var bar = continuation.IndexOf('|', StringComparison.Ordinal);
        var pass = bar < 0 ? continuation : continuation[..bar];
        var link = bar < 0 || bar == continuation.Length - 1 ? null : continuation[(bar + 1)..];
        return pass is SignedInPass or CreatedPass ? (pass, link) : (SignedInPass, null);
    }

    private static string ODataTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private async Task<(UserCollectionResponse? Page, int PageSize)> FirstOrResumedPageAsync(
        string filter, string[] select, int pageSize, string? resumeLink, CancellationToken cancellationToken)
    {
        if (resumeLink is not null)
        {
            try
            {
                return (await NextSignInPageAsync(resumeLink, cancellationToken), pageSize);
            }
            catch (GraphRequestException ex) when (ex.StatusCode is 400 or 410)
            {
                logger.LogWarning("Graph no longer accepts the stored page link ({Status}); reading this pass from its start", ex.StatusCode);
            }
        }

        try
        {
            return (await FirstSweepPageAsync(filter, select, pageSize, cancellationToken), pageSize);
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 400 && pageSize > SignInActivityFallbackPageSize)
        {
            // Tenants that still cap signInActivity pages at 120 refuse 500.
            logger.LogInformation("Graph refused {PageSize} users a page with signInActivity; falling back to {Fallback}", pageSize, SignInActivityFallbackPageSize);
            return (await FirstSweepPageAsync(filter, select, SignInActivityFallbackPageSize, cancellationToken), SignInActivityFallbackPageSize);
        }
    }

    private Task<UserCollectionResponse?> FirstSweepPageAsync(string filter, string[] select, int top, CancellationToken cancellationToken) =>
        GraphErrors.RunAsync("GET users by sign-in", () => client.Users.GetAsync(c =>
        {
            c.QueryParameters.Filter = filter;
            c.QueryParameters.Select = select;
            c.QueryParameters.Top = top;
        }, cancellationToken), cancellationToken);

    private Task<UserCollectionResponse?> NextSignInPageAsync(string link, CancellationToken cancellationToken) =>
        GraphErrors.RunAsync("GET users by sign-in",
            () => client.Users.WithUrl(link).GetAsync(cancellationToken: cancellationToken), cancellationToken);

    /// <summary>Graph allows 15 values in an <c>in</c> list outside advanced queries (which refuse <c>$expand</c>).</summary>
    private const int UsersPerIdList = 15;

    /// <summary>Graph expands at most 20 objects of a relationship, without a next link.</summary>
    private const int ExpandedObjectsLimit = 20;

    /// <summary>
    /// Managers and group counts in few calls. Graph expands one relationship a request, so per 15 users (an
    /// <c>id in (...)</c> list) one request expands their managers and one their memberships; 20 requests a $batch make
    /// 150 users a call (<see cref="IDirectory.ReviewDetailsPerCall"/>). An expansion stops at 20 objects, so a user
    /// showing 20 memberships is counted again with <c>memberOf?$count=true</c> (an advanced query), 20 users a call.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, ReviewDetails>> GetReviewDetailsAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default)
    {
        var managers = new Dictionary<string, (string? Id, string? Name)>(StringComparer.OrdinalIgnoreCase);
        var groupCounts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var lists = userIds.Distinct(StringComparer.OrdinalIgnoreCase).Chunk(UsersPerIdList).ToList();
        foreach (var batch in lists.Chunk(BatchLimit / 2))
        {
            var requests = new Dictionary<string, RequestInformation>(StringComparer.Ordinal);
            for (var i = 0; i < batch.Length; i++)
            {
                var filter = $"id in ({string.Join(',', batch[i].Select(id => $"'{id.Replace("'", "''", StringComparison.Ordinal)}'"))})";
                requests[$"m{i}"] = client.Users.ToGetRequestInformation(c =>
                {
                    c.QueryParameters.Filter = filter;
                    c.QueryParameters.Select = ["id"];
                    c.QueryParameters.Expand = ["manager($select=id,displayName,userPrincipalName)"];
                });
                requests[$"g{i}"] = client.Users.ToGetRequestInformation(c =>
                {
                    c.QueryParameters.Filter = filter;
                    c.QueryParameters.Select = ["id"];
                    c.QueryParameters.Expand = ["memberOf($select=id)"];
                });
            }

            await RunBatchAsync(requests, async (response, stepId) =>
            {
                var page = await response.GetResponseByIdAsync<UserCollectionResponse>(stepId);
                if (page?.OdataNextLink is not null)
                {
                    // 15 users never fill a page (100 with $expand); a next link means Graph changed its rules.
                    throw new GraphRequestException($"Graph paged a list of {UsersPerIdList} users ({stepId}); review details would be incomplete.", 200, null);
                }

                foreach (var user in page?.Value ?? [])
                {
                    if (user.Id is null)
                    {
                        continue;
                    }

                    if (stepId[0] == 'm')
                    {
                        var manager = user.Manager as User;
                        managers[user.Id] = (user.Manager?.Id, manager?.DisplayName ?? manager?.UserPrincipalName);
                    }
                    else
                    {
                        groupCounts[user.Id] = user.MemberOf?.Count ?? 0;
                    }
                }
            }, cancellationToken);
        }

        await CountBeyondExpansionAsync(groupCounts, cancellationToken);

        // A user gone since the page was read is in neither list: no details, nothing to review.
        return groupCounts.ToDictionary(
            p => p.Key,
            p => new ReviewDetails(p.Key, managers.GetValueOrDefault(p.Key).Id, managers.GetValueOrDefault(p.Key).Name, p.Value),
            StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Counts the memberships of users whose expansion hit its limit, 20 users a $batch. <c>$count</c> on directory objects
    /// needs <c>ConsistencyLevel: eventual</c>; without it Graph leaves the count out, which fails here rather than count 0.
    /// </summary>
    private async Task CountBeyondExpansionAsync(Dictionary<string, int> groupCounts, CancellationToken cancellationToken)
    {
        foreach (var chunk in groupCounts.Where(p => p.Value >= ExpandedObjectsLimit).Select(p => p.Key).ToList().Chunk(BatchLimit))
        {
            var requests = new Dictionary<string, RequestInformation>(StringComparer.Ordinal);
            for (var i = 0; i < chunk.Length; i++)
            {
                requests[$"c{i}"] = client.Users[chunk[i]].MemberOf.ToGetRequestInformation(c =>
                {
                    c.Headers.Add("ConsistencyLevel", "eventual");
                    c.QueryParameters.Count = true;
                    c.QueryParameters.Select = ["id"];
                    c.QueryParameters.Top = 1;
                });
            }

            var counted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            await RunBatchAsync(requests, async (response, stepId) =>
            {
                var userId = chunk[int.Parse(stepId[1..], CultureInfo.InvariantCulture)];
                var page = await response.GetResponseByIdAsync<DirectoryObjectCollectionResponse>(stepId);
                groupCounts[userId] = page?.OdataCount is { } count
                    ? checked((int)count)
                    : throw new GraphRequestException($"Graph left out the membership count of user {userId} (ConsistencyLevel: eventual not honoured).", 200, null);
                counted.Add(userId);
            }, cancellationToken);

            // A 404 here: the user was deleted after the expansion was read; nothing to review.
            foreach (var gone in chunk.Where(id => !counted.Contains(id)))
            {
                groupCounts.Remove(gone);
            }
        }
    }

    public async Task<IReadOnlyDictionary<string, string>> GetSubscribedSkuNamesAsync(CancellationToken cancellationToken = default)
    {
        var skus = await GraphErrors.RunAsync("GET subscribedSkus", () => client.SubscribedSkus.GetAsync(
            c => c.QueryParameters.Select = ["skuId", "skuPartNumber"], cancellationToken), cancellationToken);
        return (skus?.Value ?? [])
            .Where(s => s.SkuId is not null)
            .GroupBy(s => s.SkuId!.Value.ToString())
            .ToDictionary(g => g.Key, g => g.First().SkuPartNumber ?? g.Key, StringComparer.OrdinalIgnoreCase);
    }

    public async Task<IReadOnlyList<DirectoryUser>> GetSignInStatesAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken = default)
    {
        var found = new List<DirectoryUser>(userIds.Count);
        foreach (var chunk in userIds.Distinct(StringComparer.OrdinalIgnoreCase).Chunk(BatchLimit))
        {
            found.AddRange(await GetUserBatchAsync(chunk, cancellationToken, ["id", "userPrincipalName", "userType", "accountEnabled", "signInActivity"]));
        }

        return found;
    }

    public Task DisableUserAsync(string userId, CancellationToken cancellationToken = default) =>
        GraphErrors.RunAsync("PATCH user accountEnabled", () => client.Users[userId].PatchAsync(
            new User { AccountEnabled = false }, cancellationToken: cancellationToken), cancellationToken);
}
