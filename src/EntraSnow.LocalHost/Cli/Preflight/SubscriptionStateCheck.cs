using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Subscriptions;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Cli.Preflight;

/// <summary>How a doctor line reads: passed, failed, or a state worth knowing that is not a fault.</summary>
internal enum PreflightOutcome
{
    Ok,
    Note,
    Fail,
}

/// <summary>A doctor line: what was checked, how it came out, and the detail.</summary>
internal sealed record PreflightLine(string What, PreflightOutcome Outcome, string Detail);

/// <summary>
/// The doctor's account of the Graph subscriptions: one line per subscribed resource (its expiry, and whether Graph
/// notifies this host's Subscriptions:NotificationUrl), and one per other subscription of the app (another deployment,
/// or one left behind). A missing or elsewhere-pointing subscription fails only when a host serves here: without one,
/// nothing is expected to have subscribed yet, and the line says what will.
/// </summary>
internal sealed class SubscriptionStateCheck(IServiceProvider services, TimeProvider clock)
{
    public async Task<IReadOnlyList<PreflightLine>> CheckAsync(bool hostServing, CancellationToken cancellationToken = default)
    {
        var settings = services.GetRequiredService<IOptions<SubscriptionOptions>>().Value;
        var expected = settings.EffectiveNotificationUrl;
        var listed = await services.GetRequiredService<IGraphSubscriptions>().ListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var lines = new List<PreflightLine>();
        var missing = hostServing ? PreflightOutcome.Fail : PreflightOutcome.Note;
        foreach (var resource in settings.SubscribedResources)
        {
            var what = $"Graph subscription {resource}";
            var forResource = listed.Where(s => SameResource(s.Resource, resource)).ToList();
            var ours = forResource.Where(s => string.Equals(s.NotificationUrl, expected, StringComparison.OrdinalIgnoreCase)).OrderByDescending(s => s.ExpirationDateTime).FirstOrDefault();
            if (ours is not null)
            {
                var left = ours.ExpirationDateTime - now;
                lines.Add(left > TimeSpan.Zero
                    ? new PreflightLine(what, PreflightOutcome.Ok, $"expires {Expiry(ours.ExpirationDateTime, now)}, notifies this host ({expected}); renewed from {ours.ExpirationDateTime - settings.RenewalMargin:yyyy-MM-dd HH:mm} UTC")
                    : new PreflightLine(what, PreflightOutcome.Fail, $"expired {ours.ExpirationDateTime:yyyy-MM-dd HH:mm} UTC: changes are not notified until the upkeep timer (serve) replaces it"));
            }
            else if (forResource.Count > 0)
            {
                lines.Add(new PreflightLine(what, missing,
                    $"Graph notifies {string.Join(", ", forResource.Select(s => s.NotificationUrl).Distinct(StringComparer.OrdinalIgnoreCase))}, not this host ({(expected.Length > 0 ? expected : "Subscriptions:NotificationUrl is not set")}): " +
                    "this host hears nothing until its upkeep timer (serve) subscribes it"));
            }
            else
            {
                lines.Add(new PreflightLine(what, expected.Length > 0 ? missing : PreflightOutcome.Fail, expected.Length > 0
                    ? $"none: a serving host's upkeep timer subscribes {expected} (at start, then hourly); until then only the nightly full sync sees changes"
                    : "none, and Subscriptions:NotificationUrl is not set: no subscription can be made"));
            }
        }

        foreach (var other in listed.Where(s => !settings.SubscribedResources.Any(r => SameResource(s.Resource, r))))
        {
            lines.Add(new PreflightLine($"Graph subscription {other.Resource}", PreflightOutcome.Note, $"not one this host subscribes; notifies {other.NotificationUrl}, expires {Expiry(other.ExpirationDateTime, now)}"));
        }

        return lines;
    }

    // As the upkeep compares them: "/users" and "users" are one resource.
    private static bool SameResource(string a, string b) => string.Equals(a.Trim('/'), b.Trim('/'), StringComparison.OrdinalIgnoreCase);

    private static string Expiry(DateTimeOffset at, DateTimeOffset now) =>
        string.Create(CultureInfo.InvariantCulture, $"{at:yyyy-MM-dd HH:mm} UTC (in {(at - now).TotalDays:0.#} days)");
}
