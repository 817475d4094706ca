using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// Graph's limits on reading users with <c>$expand</c>, <c>in</c> and <c>$count</c>, as its query-parameter documentation
/// and known issues state them, so that a connector counting on more fails here rather than in a tenant:
/// one relationship expanded a request; a list with <c>$expand</c> returns at most 100 users a page whatever <c>$top</c>
/// asks; an expanded relationship holds at most 20 objects and has no next link; <c>$expand</c> is refused in an advanced
/// query; an <c>in</c> list holds at most 15 values outside advanced queries; <c>$count</c> on directory objects needs
/// <c>ConsistencyLevel: eventual</c> (without it Graph leaves the count out rather than failing).
/// </summary>
internal sealed partial class GraphApi
{
    private const int ExpandMaxPageSize = 100;
    private const int ExpandedObjectsLimit = 20;
    private const int InListLimit = 15;

    private static readonly string[] UserRelationships = ["manager", "memberOf"];

    /// <summary><c>ConsistencyLevel: eventual</c> with <c>$count=true</c>: what Graph calls an advanced query.</summary>
    private static bool IsAdvancedQuery(GraphRequest r) =>
        r.EventualConsistency && string.Equals(Q(r, "$count"), "true", StringComparison.OrdinalIgnoreCase);

    private static GraphResponse? RefuseQueryBeyondLimits(GraphRequest r, ODataFilter? filter, string? expand)
    {
        if (RefuseExpand(r, expand) is { } refused)
        {
            return refused;
        }

        return !IsAdvancedQuery(r) && filter?.InLists.FirstOrDefault(l => l.Count > InListLimit) is { } list
            ? GraphResponse.Error(400, "Request_UnsupportedQuery",
                $"Too many child clauses specified in search filter expression containing 'OR' operators: {list.Count}. Max allowed: {InListLimit}.")
            : null;
    }

    private static GraphResponse? RefuseExpand(GraphRequest r, string? expand)
    {
        if (expand is null)
        {
            return null;
        }

        var relationships = TopLevelItems(expand);
        if (relationships.Count > 1)
        {
            return GraphResponse.Error(400, "Request_UnsupportedQuery", "Only one relationship can be expanded in a single request.");
        }

        if (IsAdvancedQuery(r))
        {
            return GraphResponse.Error(400, "Request_UnsupportedQuery", "$expand is not supported with advanced queries (ConsistencyLevel: eventual and $count).");
        }

        var name = relationships[0].Split('(')[0].Trim();
        return UserRelationships.Contains(name, StringComparer.OrdinalIgnoreCase)
            ? null
            : GraphResponse.Error(400, "BadRequest", $"Could not find a property named '{name}' on type 'microsoft.graph.user'.");
    }

    /// <summary>Comma-separated items outside parentheses: <c>manager($select=id,displayName)</c> is one.</summary>
    private static List<string> TopLevelItems(string text)
    {
        var items = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (text[i] == ',' && depth == 0)
            {
                items.Add(text[start..i]);
                start = i + 1;
            }
        }

        items.Add(text[start..]);
        return items.Where(i => i.Trim().Length > 0).ToList();
    }

    /// <summary>The users a filter of exactly <c>id in (...)</c> names, read by key in id order (as a scan pages them).</summary>
    private static List<GraphStore.UserRow> UsersById(GraphStore.Session s, IReadOnlyList<string> ids, string? afterId) =>
        ids.Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(s.GetUser)
            .OfType<GraphStore.UserRow>()
            .Where(u => u.Removed is null && string.CompareOrdinal(u.Id, afterId ?? "") > 0)
            .OrderBy(u => u.Id, StringComparer.Ordinal)
            .ToList();

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
