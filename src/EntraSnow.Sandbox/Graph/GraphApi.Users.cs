using System.Globalization;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>The users endpoints: list, read, create, change and delete users, their manager, groups, sessions and access passes.</summary>
internal sealed partial class GraphApi
{
    private GraphResponse ListUsers(GraphRequest r)
    {
        var filter = Q(r, "$filter") is { } f ? ODataFilter.Parse(f) : null;
        var select = Select(Q(r, "$select"));
        var signIn = filter?.Paths.Any(p => p.StartsWith("signInActivity", StringComparison.OrdinalIgnoreCase)) == true
            || select?.Contains("signInActivity", StringComparer.OrdinalIgnoreCase) == true;
        if (signIn && !emulator.Options.SignInActivityAvailable)
        {
            return SignInActivityRefused();
        }

        if (filter is not null && filter.Paths.Any(p => p.StartsWith("signInActivity", StringComparison.OrdinalIgnoreCase)) && filter.Paths.Count > 1)
        {
            return GraphResponse.Error(400, "Request_UnsupportedQuery", "Filter on signInActivity cannot be combined with other filter clauses.");
        }

        var expand = Q(r, "$expand");
        if (RefuseQueryBeyondLimits(r, filter, expand) is { } refused)
        {
            return refused;
        }

        var maxTop = signIn ? emulator.Options.SignInActivityMaxPageSize : MaxPageSize;
        if (signIn && Q(r, "$top") is { } t && int.TryParse(t, CultureInfo.InvariantCulture, out var requested) && requested > maxTop)
        {
            return GraphResponse.Error(400, "Request_UnsupportedQuery", $"The page size for queries with signInActivity is limited to {maxTop}.");
        }

        var top = expand is null ? Top(r, DefaultPageSize, maxTop) : Math.Min(Top(r, DefaultPageSize, maxTop), ExpandMaxPageSize);
        var after = Q(r, "$skiptoken") is { } token ? PageToken.Decode(token, 1)[0] : null;
        var (items, more) = Store.Read(s =>
        {
            var found = new List<GraphStore.UserRow>(top + 1);
            foreach (var row in filter?.OnlyIds is { } ids ? UsersById(s, ids, after) : s.ScanUsers(after))
            {
                if (filter is null || filter.Matches(row.Doc))
                {
                    found.Add(row);
                    if (found.Count > top)
                    {
                        break;
                    }
                }
            }

            return (found.Take(top).ToList(), found.Count > top);
        });
        var next = more ? NextLink(r, "users", PageToken.Encode(items[^1].Id)) : null;
        return GraphResponse.Json(Collection(r, "users", items.Select(u => UserJson(u, select, expand)), next));
    }

    private JsonObject UserJson(GraphStore.UserRow row, string[]? select, string? expand)
    {
        var json = Project(row.Doc, select ?? DefaultUserProperties);
        if (expand is not null && expand.StartsWith("manager", StringComparison.OrdinalIgnoreCase) && row.ManagerId is not null)
        {
            var manager = Store.Read(s => s.GetUser(row.ManagerId));
            if (manager is { Removed: null })
            {
                var managerJson = Project(manager.Doc, InnerSelect(expand) ?? ["id", "displayName", "userPrincipalName"]);
                managerJson.Insert(0, "@odata.type", "#microsoft.graph.user");
                json["manager"] = managerJson;
            }
        }
        else if (expand is not null && expand.StartsWith("memberOf", StringComparison.OrdinalIgnoreCase))
        {
            ExpandMemberOf(json, row, expand);
        }

        return json;
    }

    private GraphResponse GetUser(GraphRequest r, string id)
    {
        // /users/{id | userPrincipalName}, as Graph accepts.
        var row = Store.Read(s => s.GetUser(id) ?? s.GetUserByUserPrincipalName(id));
        if (row is not { Removed: null })
        {
            return GraphResponse.NotFound("user", id);
        }

        if (RefuseExpand(r, Q(r, "$expand")) is { } refused)
        {
            return refused;
        }

        var body = UserJson(row, Select(Q(r, "$select")), Q(r, "$expand"));
        body.Insert(0, "@odata.context", $"{r.ServiceRoot}/$metadata#users/$entity");
        return GraphResponse.Json(body);
    }

    private GraphResponse CreateUser(GraphRequest r)
    {
        var body = RequireBody(r);
        var id = Guid.NewGuid().ToString();
        var doc = (JsonObject)body.DeepClone();
        doc.Remove("passwordProfile");
        doc["id"] = id;
        doc["createdDateTime"] = GraphEmulator.Timestamp(emulator.Clock.GetUtcNow());
        doc["businessPhones"] ??= new JsonArray();
        Store.InTransaction(s =>
        {
            s.PutUser(id, doc, null, null, s.NextVersion());
            return 0;
        });
        emulator.NotifyInBackground("Users", id, "updated");
        return GraphResponse.Json(Project(doc, DefaultUserProperties), 201);
    }

    private GraphResponse PatchUser(GraphRequest r, string id)
    {
        if (!emulator.ApplyUserPatch(id, RequireBody(r)))
        {
            return GraphResponse.NotFound("user", id);
        }

        emulator.NotifyInBackground("Users", id, "updated");
        return GraphResponse.NoContent();
    }

    private GraphResponse DeleteUser(string id)
    {
        if (!emulator.RemoveUser(id, "changed"))
        {
            return GraphResponse.NotFound("user", id);
        }

        emulator.NotifyInBackground("Users", id, "updated");
        return GraphResponse.NoContent();
    }

    private GraphResponse GetManager(GraphRequest r, string id)
    {
        var row = Store.Read(s => s.GetUser(id));
        if (row is not { Removed: null })
        {
            return GraphResponse.NotFound("user", id);
        }

        var manager = row.ManagerId is null ? null : Store.Read(s => s.GetUser(row.ManagerId));
        if (manager is not { Removed: null })
        {
            return GraphResponse.NotFound("manager", id);
        }

        var body = UserJson(manager, Select(Q(r, "$select")), null);
        body.Insert(0, "@odata.type", "#microsoft.graph.user");
        return GraphResponse.Json(body);
    }

    private GraphResponse PutManager(GraphRequest r, string id)
    {
        var managerId = RequireBody(r)["@odata.id"]?.GetValue<string>() is { } reference ? LastSegment(reference) : null;
        if (managerId is null || Store.Read(s => s.GetUser(managerId)) is not { Removed: null } || !emulator.SetManager(id, managerId))
        {
            return GraphResponse.NotFound("user", managerId ?? id);
        }

        emulator.NotifyInBackground("Users", id, "updated");
        return GraphResponse.NoContent();
    }

    private GraphResponse MemberOf(GraphRequest r, string id)
    {
        if (Store.Read(s => s.GetUser(id)) is not { Removed: null })
        {
            return GraphResponse.NotFound("user", id);
        }

        var select = Select(Q(r, "$select"));
        var groups = Store.Read(s => s.GroupIdsOf(id).Select(g => s.GetGroup(g)).OfType<GraphStore.GroupRow>().Where(g => g.Removed is null).ToList());
        var skip = Q(r, "$skiptoken") is { } token ? int.Parse(PageToken.Decode(token, 1)[0], CultureInfo.InvariantCulture) : 0;
        var top = Q(r, "$top") is null ? groups.Count : Top(r, DefaultPageSize, MaxPageSize);
        var page = groups.Skip(skip).Take(top).ToList();
        var next = skip + page.Count < groups.Count ? NextLink(r, $"users/{id}/memberOf", PageToken.Encode(skip + page.Count)) : null;
        var body = Collection(r, "directoryObjects", page.Select(g =>
        {
            var json = Project(g.Doc, select ?? DefaultGroupProperties);
            json.Insert(0, "@odata.type", "#microsoft.graph.group");
            return json;
        }), next);

        // $count on directory objects is an advanced query: without ConsistencyLevel: eventual Graph leaves the count out.
        if (IsAdvancedQuery(r))
        {
            body.Insert(1, "@odata.count", groups.Count);
        }

        return GraphResponse.Json(body);
    }

    private GraphResponse RevokeSessions(GraphRequest r, string id)
    {
        if (!emulator.ApplyUserPatch(id, new JsonObject { ["signInSessionsValidFromDateTime"] = GraphEmulator.Timestamp(emulator.Clock.GetUtcNow()) }))
        {
            return GraphResponse.NotFound("user", id);
        }

        return GraphResponse.Json(new JsonObject { ["@odata.context"] = $"{r.ServiceRoot}/$metadata#Edm.Boolean", ["value"] = true });
    }

    private GraphResponse CreateAccessPass(GraphRequest r, string id)
    {
        var user = Store.Read(s => s.GetUser(id));
        if (user is not { Removed: null })
        {
            return GraphResponse.NotFound("user", id);
        }

        var body = r.Body as JsonObject ?? [];
        var lifetime = body["lifetimeInMinutes"]?.GetValue<int>() ?? 60;
        if (lifetime is < 10 or > 43200)
        {
            return GraphResponse.Error(400, "badRequest", "lifetimeInMinutes must be between 10 and 43200.");
        }

        var now = emulator.Clock.GetUtcNow();
        var passId = Guid.NewGuid().ToString();
        var pass = new string(System.Security.Cryptography.RandomNumberGenerator.GetItems<char>("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789#%!", 8));
        var stored = new JsonObject
        {
            ["id"] = passId,
            ["createdDateTime"] = GraphEmulator.Timestamp(now),
            ["startDateTime"] = GraphEmulator.Timestamp(now),
            ["lifetimeInMinutes"] = lifetime,
            ["isUsableOnce"] = body["isUsableOnce"]?.GetValue<bool>() ?? false,
            ["isUsable"] = true,
            ["methodUsabilityReason"] = "EnabledByPolicy",
        };
        Store.InTransaction(s =>
        {
            // The pass is shown once, as Graph does; the store keeps only its metadata.
            s.PutAccessPass(passId, id, stored);
            return 0;
        });
        var response = (JsonObject)stored.DeepClone();
        response.Insert(0, "@odata.context", $"{r.ServiceRoot}/$metadata#users('{id}')/authentication/temporaryAccessPassMethods/$entity");
        response.Insert(2, "temporaryAccessPass", pass);
        return GraphResponse.Json(response, 201);
    }
}
