using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>The groups endpoints: list, read and create groups, and list, add and remove their members.</summary>
internal sealed partial class GraphApi
{
    private GraphResponse ListGroups(GraphRequest r)
    {
        var top = Top(r, DefaultPageSize, MaxPageSize);
        var after = Q(r, "$skiptoken") is { } token ? PageToken.Decode(token, 1)[0] : null;
        var filter = Q(r, "$filter") is { } f ? ODataFilter.Parse(f) : null;
        var select = Select(Q(r, "$select"));
        var rows = Store.Read(s => s.ListGroups(after, filter is null ? top + 1 : int.MaxValue));
        var matching = rows.Where(g => filter is null || filter.Matches(g.Doc)).Take(top + 1).ToList();
        var page = matching.Take(top).ToList();
        var next = matching.Count > top ? NextLink(r, "groups", PageToken.Encode(page[^1].Id)) : null;
        return GraphResponse.Json(Collection(r, "groups", page.Select(g => Project(g.Doc, select ?? DefaultGroupProperties)), next));
    }

    private GraphResponse CreateGroup(GraphRequest r)
    {
        var body = RequireBody(r);
        var id = Guid.NewGuid().ToString();
        var doc = GraphEmulator.GroupDoc(id, body["displayName"]?.GetValue<string>() ?? throw new FormatException("displayName is required."),
            body["description"]?.GetValue<string>(), body["isAssignableToRole"]?.GetValue<bool>() ?? false);
        Store.InTransaction(s =>
        {
            s.PutGroup(id, doc, null, s.NextVersion());
            return 0;
        });
        emulator.NotifyInBackground("Groups", id, "updated");
        return GraphResponse.Json(doc, 201);
    }

    private GraphResponse GetGroup(GraphRequest r, string id)
    {
        var row = Store.Read(s => s.GetGroup(id));
        return row is { Removed: null }
            ? GraphResponse.Json(Project(row.Doc, Select(Q(r, "$select")) ?? DefaultGroupProperties))
            : GraphResponse.NotFound("group", id);
    }

    private static JsonObject Typed(JsonObject json, string type)
    {
        json.Insert(0, "@odata.type", type);
        return json;
    }

    private GraphResponse ListMembers(GraphRequest r, string id)
    {
        if (Store.Read(s => s.GetGroup(id)) is not { Removed: null })
        {
            return GraphResponse.NotFound("group", id);
        }

        var top = Top(r, DefaultPageSize, MaxPageSize);
        var after = Q(r, "$skiptoken") is { } token ? PageToken.Decode(token, 1)[0] : null;
        var select = Select(Q(r, "$select"));
        var ids = Store.Read(s => s.MemberIds(id, after, top + 1));
        var page = ids.Take(top).ToList();
        // Groups nested in this one are members too, listed as Graph lists them (typed, with the group's properties).
        var members = Store.Read(s => page.Select(m => s.GetUser(m) is { } user
            ? Typed(Project(user.Doc, select ?? DefaultUserProperties), "#microsoft.graph.user")
            : s.GetGroup(m) is { Removed: null } group ? Typed(Project(group.Doc, select ?? DefaultGroupProperties), "#microsoft.graph.group") : null)
            .OfType<JsonObject>().ToList());
        var next = ids.Count > top ? NextLink(r, $"groups/{id}/members", PageToken.Encode(page[^1])) : null;
        return GraphResponse.Json(Collection(r, "directoryObjects", members, next));
    }

    private GraphResponse AddMember(GraphRequest r, string groupId)
    {
        var reference = RequireBody(r)["@odata.id"]?.GetValue<string>() ?? throw new FormatException("@odata.id is required.");
        var userId = LastSegment(reference);
        switch (emulator.ChangeMembership(groupId, userId, add: true, emulator.CallingApp))
        {
            case null:
                emulator.NotifyInBackground("Groups", groupId, "updated");
                return GraphResponse.NoContent();
            case "exists":
                return GraphResponse.Error(400, "Request_BadRequest",
                    "One or more added object references already exist for the following modified properties: 'members'.");
            default:
                return GraphResponse.NotFound("group or member", $"{groupId}/{userId}");
        }
    }

    private GraphResponse RemoveMember(string groupId, string userId)
    {
        if (emulator.ChangeMembership(groupId, userId, add: false, emulator.CallingApp) is not null)
        {
            return GraphResponse.NotFound("member", userId);
        }

        emulator.NotifyInBackground("Groups", groupId, "updated");
        return GraphResponse.NoContent();
    }
}
