using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// Graph's limits on listing users with <c>$expand</c> and <c>in</c>, as its query-parameter documentation and known issues
/// state them: a list with <c>$expand</c> returns at most 100 users a page whatever <c>$top</c> asks; an expanded
/// relationship of a directory object holds at most 20 objects and has no next link; an <c>in</c> list holds at most 15 values.
/// </summary>
internal sealed partial class GraphApi
{
    private const int ExpandMaxPageSize = 100;
    private const int ExpandedObjectsLimit = 20;
    private const int InListLimit = 15;

    private static GraphResponse? RefuseLongInList(ODataFilter? filter) =>
        filter?.InLists.FirstOrDefault(l => l.Count > InListLimit) is { } list
            ? GraphResponse.Error(400, "Request_UnsupportedQuery",
                $"Too many child clauses specified in search filter expression containing 'OR' operators: {list.Count}. Max allowed: {InListLimit}.")
            : null;

    /// <summary>The users a filter of exactly <c>id in (...)</c> names, read by key rather than by scanning the directory.</summary>
    private List<GraphStore.UserRow> UsersById(IReadOnlyList<string> ids) => Store.Read(s =>
        ids.Distinct(StringComparer.OrdinalIgnoreCase).Select(id => s.GetUser(id)).OfType<GraphStore.UserRow>().Where(u => u.Removed is null).ToList());

    /// <summary><c>memberOf</c> expanded: the first 20 groups, no next link (Graph's limit for expanded relationships).</summary>
    private void ExpandMemberOf(JsonObject json, GraphStore.UserRow row, string expand)
    {
        var inner = InnerSelect(expand);
        var groups = Store.Read(s => s.GroupIdsOf(row.Id).Select(g => s.GetGroup(g)).OfType<GraphStore.GroupRow>()
            .Where(g => g.Removed is null).Take(ExpandedObjectsLimit).ToList());
        json["memberOf"] = new JsonArray([.. groups.Select(g =>
        {
            var group = Project(g.Doc, inner ?? DefaultGroupProperties);
            group.Insert(0, "@odata.type", "#microsoft.graph.group");
            return (JsonNode)group;
        })]);
    }

    /// <summary>The <c>$select</c> nested in an expansion: <c>manager($select=id,displayName)</c>.</summary>
    private static string[]? InnerSelect(string expand) =>
        expand.Contains("$select=", StringComparison.OrdinalIgnoreCase)
            ? Select(expand[(expand.IndexOf("$select=", StringComparison.OrdinalIgnoreCase) + 8)..].TrimEnd(')'))
            : null;
}
