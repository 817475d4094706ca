using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using static EntraSnow.Connectors.Graph.GraphModelMapping;

namespace EntraSnow.Connectors.Graph;

/// <summary>The reads the inactive-account sweep needs: resumable sign-in pages, review details, SKU names; and disabling an account.</summary>
internal sealed partial class GraphDirectory
{
    /// <summary>Marks a continuation of the single pass; older continuations (two passes) start the pass over.</summary>
    private const string AllUsersPass = "all";

    private static readonly string[] SweepSelect =
        [.. UserSelect, "signInActivity", "createdDateTime", "assignedLicenses", "employeeType", "companyName"];

    /// <summary>
    /// One pass over every user, sign-in activity selected, judged here against both cutoffs. Graph's signInActivity
    /// filter cannot be combined with another clause and never matches accounts that never signed in, so filtering on
    /// Graph's side takes a second pass over every account created before the cutoff, which is nearly the whole directory:
    /// one unfiltered pass reads users / 500 pages, two read more. A continuation is the nextLink to read next; one Graph
    /// no longer accepts starts the pass over (the caller's writes are idempotent).
    /// </summary>
    public async IAsyncEnumerable<InactiveCandidatePage> GetInactiveCandidatesAsync(
        InactiveCandidateQuery query, string? resumeFrom, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var select = SweepSelect.Concat(query.ExtraSelect).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var page = await FirstOrResumedPageAsync(select, options.Value.SignInActivityPageSize, ResumeLink(resumeFrom), cancellationToken);
        while (page is not null)
        {
            var users = page.Users.Where(u => u.LastSuccessfulSignIn is { } last
                ? last <= query.SignedInBefore
                : u.CreatedDateTime is { } created && created <= query.CreatedBefore).ToList();
            var next = page.NextLink;
            yield return new InactiveCandidatePage(users, next is null ? null : AllUsersPass + "|" + next);
            page = next is null ? null : await NextSignInPageAsync(next, cancellationToken);
        }
    }

    private static string? ResumeLink(string? continuation) =>
        continuation?.StartsWith(AllUsersPass + "|", StringComparison.Ordinal) == true && continuation.Length > AllUsersPass.Length + 1
            ? continuation[(AllUsersPass.Length + 1)..]
            : null;

    private async Task<SweepPageJson.Page?> FirstOrResumedPageAsync(
        string[] select, int pageSize, string? resumeLink, CancellationToken cancellationToken)
    {
        if (resumeLink is not null)
        {
            try
            {
                return await NextSignInPageAsync(resumeLink, cancellationToken);
            }
            catch (GraphRequestException ex) when (ex.StatusCode is 400 or 410)
            {
                logger.LogWarning("Graph no longer accepts the stored page link ({Status}); reading the directory from its start", ex.StatusCode);
            }
        }

        try
        {
            return await FirstSweepPageAsync(select, pageSize, cancellationToken);
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 400 && pageSize > SignInActivityFallbackPageSize)
        {
            // Tenants that still cap signInActivity pages at 120 refuse 500.
            logger.LogInformation("Graph refused {PageSize} users a page with signInActivity; falling back to {Fallback}", pageSize, SignInActivityFallbackPageSize);
            return await FirstSweepPageAsync(select, SignInActivityFallbackPageSize, cancellationToken);
        }
    }

    private Task<SweepPageJson.Page> FirstSweepPageAsync(string[] select, int top, CancellationToken cancellationToken) =>
        SweepPageAsync(client.Users.ToGetRequestInformation(c =>
        {
            c.QueryParameters.Select = select;
            c.QueryParameters.Top = top;
        }), cancellationToken);

    private Task<SweepPageJson.Page> NextSignInPageAsync(string link, CancellationToken cancellationToken) =>
        SweepPageAsync(client.Users.WithUrl(link).ToGetRequestInformation(), cancellationToken);

    /// <summary>Through the SDK's adapter and handlers (auth, throttling, errors), but parsed by <see cref="SweepPageJson"/>.</summary>
    private Task<SweepPageJson.Page> SweepPageAsync(RequestInformation request, CancellationToken cancellationToken) =>
        GraphErrors.RunAsync("GET users by sign-in", async () =>
        {
            await using var body = await client.RequestAdapter.SendPrimitiveAsync<Stream>(request, ODataErrors, cancellationToken)
                ?? throw new GraphUnavailableException("GET users by sign-in: Graph answered without a body.");
            return await SweepPageJson.ReadAsync(body, cancellationToken);
        }, cancellationToken);

    private static readonly Dictionary<string, ParsableFactory<IParsable>> ODataErrors = new() { ["XXX"] = ODataError.CreateFromDiscriminatorValue };

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
