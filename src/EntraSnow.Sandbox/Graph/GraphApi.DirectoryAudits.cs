using System.Globalization;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// <c>GET /auditLogs/directoryAudits</c>: newest first, <c>$filter</c> (e.g. <c>activityDateTime ge … and
/// targetResources/any(t:t/id eq '…')</c>), <c>$top</c> up to 999, <c>@odata.nextLink</c>; 403 without AuditLog.Read.All.
/// </summary>
internal sealed partial class GraphApi
{
    private const int DirectoryAuditsMaxPageSize = 999;

    private GraphResponse? RouteDirectoryAudits(string method, string[] s, GraphRequest r) =>
        method == "GET" && s.Length == 2 && string.Equals(s[0], "auditLogs", StringComparison.OrdinalIgnoreCase)
            && string.Equals(s[1], "directoryAudits", StringComparison.OrdinalIgnoreCase)
            ? ListDirectoryAudits(r)
            : null;

    private GraphResponse ListDirectoryAudits(GraphRequest r)
    {
        if (!emulator.Options.DirectoryAuditsAvailable)
        {
            return GraphResponse.Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
        }

        var filter = Q(r, "$filter") is { } f ? ODataFilter.Parse(f) : null;
        var top = Top(r, DefaultPageSize, DirectoryAuditsMaxPageSize);
        long? before = Q(r, "$skiptoken") is { } token ? long.Parse(PageToken.Decode(token, 1)[0], CultureInfo.InvariantCulture) : null;
        // Entries of the last DirectoryAuditPublicationLag are not published yet.
        var publishedUpTo = emulator.Clock.GetUtcNow() - emulator.Options.DirectoryAuditPublicationLag;
        var found = Store.Read(s => s.ScanAuditsNewestFirst(before)
            .Where(a => Published(a.Doc, publishedUpTo) && (filter is null || filter.Matches(a.Doc))).Take(top + 1).ToList());
        var page = found.Take(top).ToList();
        var next = found.Count > top ? NextLink(r, "auditLogs/directoryAudits", PageToken.Encode(page[^1].Seq)) : null;
        return GraphResponse.Json(Collection(r, "auditLogs/directoryAudits", page.Select(a => a.Doc), next));
    }

    private static bool Published(System.Text.Json.Nodes.JsonObject entry, DateTimeOffset publishedUpTo) =>
        entry["activityDateTime"]?.GetValue<string>() is not { } at
        || DateTimeOffset.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) <= publishedUpTo;
}
