using System.Net;
using EntraSnow.LocalHost.Hosting;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.StatusPage;

/// <summary>
/// Decides whether a state-changing call from the status page (a dead-letter replay) really comes from the page this
/// host served, not from another site the operator's browser has open. Three checks, all cheap and stateless:
/// <list type="number">
/// <item>a custom header (<see cref="HeaderName"/>): a page of another origin cannot add it without a CORS preflight,
/// and this host answers no preflight, so the browser never sends such a request; a plain HTML form cannot set it;</item>
/// <item>the <c>Origin</c> (browsers send it on every POST) and <c>Sec-Fetch-Site</c>, when present, must say this
/// host itself;</item>
/// <item>the <c>Host</c> must name this host (its configured address or a loopback alias of it on the same port), so a
/// DNS name rebound to 127.0.0.1, which would make a hostile page "same-origin", is refused.</item>
/// </list>
/// Chosen over ASP.NET Core's antiforgery tokens because those need a cookie and data-protection keys kept in the data
/// folder, and the page would then hold a token; these checks keep the page free of any secret and the host stateless.
/// </summary>
public sealed class SameOriginAction(IOptions<LocalHostOptions> options)
{
    public const string HeaderName = "X-EntraSnow-Action";

    private static readonly string[] LoopbackNames = ["127.0.0.1", "localhost", "[::1]"];

    /// <summary>Why the request is refused, or null when it comes from this host's own page.</summary>
    public string? Refusal(HttpRequest request)
    {
        if (string.IsNullOrEmpty(request.Headers[HeaderName]))
        {
            return $"the {HeaderName} header is missing: actions are taken from the status page";
        }

        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not "same-origin" and not "none")
        {
            return $"the request comes from another site ({site})";
        }

        var own = new Uri(options.Value.Url);
        if (!NamesThisHost(request.Host.Value ?? string.Empty, own))
        {
            return "the request names another host";
        }

        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || (Uri.TryCreate(origin, UriKind.Absolute, out var from) && from.Scheme == own.Scheme && NamesThisHost(from.Authority, own))
            ? null
            : "the request comes from another origin";
    }

    private static bool NamesThisHost(string authority, Uri own)
    {
        if (!Uri.TryCreate($"{own.Scheme}://{authority}", UriKind.Absolute, out var named) || named.Port != own.Port)
        {
            return false;
        }

        if (string.Equals(named.Host, own.Host, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // Listening on a loopback or any-address, the same port reached as 127.0.0.1, localhost or [::1] is this host too.
        var ownIsLocal = own.IsLoopback || (IPAddress.TryParse(own.Host.Trim('[', ']'), out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)));
        return ownIsLocal && LoopbackNames.Contains(named.Host, StringComparer.OrdinalIgnoreCase);
    }
}
