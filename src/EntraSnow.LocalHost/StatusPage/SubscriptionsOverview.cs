using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Subscriptions;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.StatusPage;

/// <summary>One Graph subscription as the status page shows it: what it watches and when it expires.</summary>
public sealed record SubscriptionView(string Id, string Resource, string ChangeType, DateTimeOffset ExpiresAt, double HoursLeft, DateTimeOffset RenewsFrom);

/// <summary>The subscriptions' answer: the list, or why Graph could not give it.</summary>
public sealed record SubscriptionsAnswer(IReadOnlyList<SubscriptionView> Subscriptions, string? Error, DateTimeOffset CheckedAt);

/// <summary>
/// Graph's list of this app's subscriptions with their expiry, read at most every <see cref="CacheFor"/>: the status page
/// polls every few seconds and must not become load on Graph.
/// </summary>
public sealed class SubscriptionsOverview(IServiceProvider services, IOptions<SubscriptionOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(15);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SubscriptionsAnswer? _last;

    public async Task<SubscriptionsAnswer> GetAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = clock.GetUtcNow();
            if (_last is { } last && now - last.CheckedAt < CacheFor)
            {
                return last;
            }

            _last = await ReadAsync(now, cancellationToken);
            return _last;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SubscriptionsAnswer> ReadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var margin = options.Value.RenewalMargin;
            var listed = await services.GetRequiredService<IGraphSubscriptions>().ListAsync(timeout.Token);
            return new SubscriptionsAnswer(
                [.. listed.OrderBy(s => s.Resource, StringComparer.OrdinalIgnoreCase).Select(s => new SubscriptionView(
                    s.Id, s.Resource, s.ChangeType, s.ExpirationDateTime, Math.Round((s.ExpirationDateTime - now).TotalHours, 1), s.ExpirationDateTime - margin))],
                null, now);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SubscriptionsAnswer([], "Graph did not answer within 5 s", now);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Connector exceptions carry Graph's message, never credentials.
            return new SubscriptionsAnswer([], ex.Message, now);
        }
    }
}
