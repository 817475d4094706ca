using System.Globalization;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>Where one run's reviews go: a task per account, or one review request. Both look before they write.</summary>
internal interface IReviewRecords
{
    /// <summary>Which of these accounts already have their review this cycle.</summary>
    Task<IReadOnlySet<string>> AlreadyRaisedAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>Writes the reviews; <paramref name="raised"/> hears of each account once its review is written.</summary>
    Task RaiseAsync(IReadOnlyList<InactiveAccount> accounts, Action<InactiveAccount> raised, CancellationToken cancellationToken);
}

/// <summary>Correlation ids of the sweep's records: <c>entra-inactive:{user}:{cycle}</c>, and <c>entra-inactive:all:{cycle}</c> for a review request.</summary>
public static class ReviewCorrelation
{
    public const string Prefix = "entra-inactive:";

    public static string ForAccount(string userId, string cycle) => $"{Prefix}{userId}:{cycle}";

    public static string ForRequest(string cycle) => $"{Prefix}all:{cycle}";

    /// <summary>The user id of an account task's correlation id, or null for anything else.</summary>
    public static string? UserOf(string? correlationId)
    {
        if (correlationId is null || !correlationId.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = correlationId[Prefix.Length..];
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        var user = colon < 0 ? null : rest[..colon];
        return user is null or "all" ? null : user;
    }
}

/// <summary>One task per account per cycle, assigned to the review group.</summary>
internal sealed class ReviewTasks(IServiceNowTable serviceNow, InactiveSweepOptions options, string cycle, string groupSysId, DateTimeOffset now)
    : IReviewRecords
{
    /// <summary>Correlation ids per lookup: keeps the query string short while costing one read per 50 accounts.</summary>
    private const int LookupChunk = 50;

    private static readonly string[] LookupFields = ["sys_id", "correlation_id"];

    public async Task<IReadOnlySet<string>> AlreadyRaisedAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var raised = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var chunk in userIds.Chunk(LookupChunk))
        {
            var query = EncodedQuery.Where("correlation_id", "IN", string.Join(',', chunk.Select(id => ReviewCorrelation.ForAccount(id, cycle))));
            await foreach (var record in serviceNow.QueryAsync(options.Table, query, LookupFields, cancellationToken))
            {
                if (ReviewCorrelation.UserOf(record["correlation_id"]) is { } user)
                {
                    raised.Add(user);
                }
            }
        }

        return raised;
    }

    public Task RaiseAsync(IReadOnlyList<InactiveAccount> accounts, Action<InactiveAccount> raised, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(accounts, new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrency, CancellationToken = cancellationToken },
            async (account, ct) =>
            {
                await serviceNow.CreateAsync(options.Table, new Dictionary<string, string?>
            {
                ["short_description"] = $"Review inactive account {account.Name}",
                ["description"] = string.Join('\n', account.Describe(now).Append($"Review cycle: {cycle}")),
                ["assignment_group"] = groupSysId,
                ["correlation_id"] = ReviewCorrelation.ForAccount(account.User.Id, cycle),
                ["correlation_display"] = "EntraSnow inactive sweep",
            }, ct);
                raised(account);
            });
}

/// <summary>
/// One review request per cycle listing every account, one line each ending in the object id in brackets, which is how
/// a rerun knows who is listed already.
/// </summary>
internal sealed class ReviewRequest(IServiceNowTable serviceNow, InactiveSweepOptions options, string cycle, string groupSysId, DateTimeOffset now)
    : IReviewRecords
{
    private string? _sysId;
    private string _description = string.Empty;
    private HashSet<string>? _listed;

    public async Task<IReadOnlySet<string>> AlreadyRaisedAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        if (_listed is null)
        {
            var existing = await serviceNow.FindAsync(options.Table, EncodedQuery.Where("correlation_id", ReviewCorrelation.ForRequest(cycle)),
                ["sys_id", "description"], cancellationToken);
            _sysId = existing?.SysId;
            _description = existing?["description"] ?? string.Empty;
            _listed = new HashSet<string>(
                _description.Split('\n').Select(ListedId).OfType<string>(), StringComparer.OrdinalIgnoreCase);
        }

        return _listed;
    }

    public async Task RaiseAsync(IReadOnlyList<InactiveAccount> accounts, Action<InactiveAccount> raised, CancellationToken cancellationToken)
    {
        await AlreadyRaisedAsync([], cancellationToken);
        var added = accounts.Where(a => !_listed!.Contains(a.User.Id)).ToList();
        var lines = added
            .Select(a => $"- {a.Name}: {a.Reason(now)}; manager {a.ManagerText}; last sign-in {a.LastSignInText}; created {a.CreatedText}; " +
                $"licences {(a.Licences.Count == 0 ? "none" : string.Join(", ", a.Licences))}; groups {a.Details?.GroupCount.ToString(CultureInfo.InvariantCulture) ?? "unknown"} [{a.User.Id}]")
            .ToList();
        if (lines.Count == 0)
        {
            return;
        }

        _description = _description.Length == 0
            ? string.Join('\n', lines.Prepend($"Accounts without a recent sign-in, review cycle {cycle}:"))
            : _description + "\n" + string.Join('\n', lines);
        var fields = new Dictionary<string, string?> { ["description"] = _description };
        if (_sysId is null)
        {
            fields["short_description"] = $"Review inactive accounts ({cycle})";
            fields["assignment_group"] = groupSysId;
            fields["correlation_id"] = ReviewCorrelation.ForRequest(cycle);
            fields["correlation_display"] = "EntraSnow inactive sweep";
            _sysId = (await serviceNow.CreateAsync(options.Table, fields, cancellationToken)).SysId;
        }
        else
        {
            await serviceNow.UpdateAsync(options.Table, _sysId, fields, cancellationToken);
        }

        foreach (var account in added)
        {
            _listed!.Add(account.User.Id);
            raised(account);
        }
    }

    private static string? ListedId(string line)
    {
        var open = line.LastIndexOf('[');
        return line.StartsWith("- ", StringComparison.Ordinal) && open > 0 && line.EndsWith(']') ? line[(open + 1)..^1] : null;
    }
}
