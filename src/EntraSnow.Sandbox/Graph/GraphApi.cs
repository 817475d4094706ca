using System.Globalization;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// The Graph v1.0 endpoints EntraSnow uses, as one dispatcher so <c>$batch</c> can run the same code per item.
/// Shapes follow Graph: collections in <c>value</c> with <c>@odata.nextLink</c>, delta pages ending in
/// <c>@odata.deltaLink</c>, errors as <c>{"error":{"code","message"}}</c>.
/// </summary>
internal sealed partial class GraphApi(GraphEmulator emulator)
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 999;
    private const int RiskDetectionsMaxPageSize = 500;
    private const int BatchLimit = 20;

    private static readonly string[] EventGridParameters = ["azuresubscriptionid", "resourcegroup", "partnertopic", "location"];

    private static readonly string[] DefaultUserProperties =
        ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"];

    private static readonly string[] DefaultGroupProperties =
        ["id", "displayName", "description", "mail", "mailEnabled", "securityEnabled", "groupTypes", "isAssignableToRole"];

    private GraphStore Store => emulator.Store;

    public async Task<GraphResponse> HandleAsync(GraphRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await RouteAsync(request, cancellationToken);
        }
        catch (FormatException ex)
        {
            return GraphResponse.Error(400, "BadRequest", ex.Message);
        }
    }

    private async Task<GraphResponse> RouteAsync(GraphRequest r, CancellationToken ct)
    {
        var s = Segments(r.Path);
        var method = r.Method.ToUpperInvariant();
        return (method, s.Length) switch
        {
            ("POST", 1) when s[0] == "$batch" => await BatchAsync(r, ct),
            ("GET", 1) when s[0] == "users" => ListUsers(r),
            ("POST", 1) when s[0] == "users" => CreateUser(r),
            ("GET", 2) when s[0] == "users" && s[1] == "delta" => UsersDelta(r),
            ("GET", 2) when s[0] == "users" => GetUser(r, s[1]),
            ("PATCH", 2) when s[0] == "users" => PatchUser(r, s[1]),
            ("DELETE", 2) when s[0] == "users" => DeleteUser(s[1]),
            ("GET", 3) when s[0] == "users" && s[2] == "manager" => GetManager(r, s[1]),
            ("PUT", 4) when s[0] == "users" && s[2] == "manager" && s[3] == "$ref" => PutManager(r, s[1]),
            ("GET", 3) when s[0] == "users" && s[2] == "memberOf" => MemberOf(r, s[1]),
            ("POST", 3) when s[0] == "users" && s[2] == "revokeSignInSessions" => RevokeSessions(r, s[1]),
            ("POST", 4) when s[0] == "users" && s[2] == "authentication" && s[3] == "temporaryAccessPassMethods" => CreateAccessPass(r, s[1]),
            ("GET", 1) when s[0] == "groups" => ListGroups(r),
            ("POST", 1) when s[0] == "groups" => CreateGroup(r),
            ("GET", 2) when s[0] == "groups" && s[1] == "delta" => GroupsDelta(r),
            ("GET", 2) when s[0] == "groups" => GetGroup(r, s[1]),
            ("GET", 3) when s[0] == "groups" && s[2] == "members" => ListMembers(r, s[1]),
            ("POST", 4) when s[0] == "groups" && s[2] == "members" && s[3] == "$ref" => AddMember(r, s[1]),
            ("DELETE", 5) when s[0] == "groups" && s[2] == "members" && s[4] == "$ref" => RemoveMember(s[1], s[3]),
            ("DELETE", 4) when s[0] == "groups" && s[2] == "members" && s[3] == "$ref" && r.Query.TryGetValue("$id", out var refId) => RemoveMember(s[1], LastSegment(refId)),
            ("GET", 2) when s[0] == "identityProtection" && s[1] == "riskDetections" => ListRiskDetections(r),
            ("GET", 1) when s[0] == "subscribedSkus" => SubscribedSkus(r),
            ("GET", 1) when s[0] == "subscriptions" => ListSubscriptions(r),
            ("POST", 1) when s[0] == "subscriptions" => await CreateSubscriptionAsync(r, ct),
            ("GET", 2) when s[0] == "subscriptions" => GetSubscription(s[1]),
            ("PATCH", 2) when s[0] == "subscriptions" => await RenewSubscriptionAsync(r, s[1], ct),
            ("DELETE", 2) when s[0] == "subscriptions" => DeleteSubscription(s[1]),
            ("POST", 3) when s[0] == "subscriptions" && s[2] == "reauthorize" => Reauthorize(s[1]),
            _ => RouteMailAndRoles(method, s, r) ?? RouteDirectoryAudits(method, s, r) ?? GraphResponse.Error(400, "BadRequest", $"Resource not found for the segment '{r.Path}'."),
        };
    }

    /// <summary>Path segments without the SDK's decorations: <c>microsoft.graph.delta()</c> and <c>delta()</c> become <c>delta</c>.</summary>
    private static string[] Segments(string path) => path.Trim('/')
        .Split('/', StringSplitOptions.RemoveEmptyEntries)
        .Select(Uri.UnescapeDataString)
        .Select(p => p.StartsWith("microsoft.graph.", StringComparison.OrdinalIgnoreCase) ? p["microsoft.graph.".Length..] : p)
        .Select(p => p.EndsWith("()", StringComparison.Ordinal) ? p[..^2] : p)
        .Select(p => string.Equals(p, "identityprotection", StringComparison.OrdinalIgnoreCase) ? "identityProtection" : p)
        .Select((p, i) => i == 0 ? p.ToLowerInvariant() switch { "users" => "users", "groups" => "groups", "subscriptions" => "subscriptions", _ => p } : p)
        .ToArray();

    private static string LastSegment(string url) => url.TrimEnd('/').Split('/')[^1];

    private static string? Q(GraphRequest r, string name) => r.Query.TryGetValue(name, out var v) ? v : null;

    private static int Top(GraphRequest r, int fallback, int max)
    {
        var text = Q(r, "$top");
        if (text is null)
        {
            return Math.Min(fallback, r.MaxPageSize ?? fallback);
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var top) || top < 1 || top > max)
        {
            throw new FormatException($"Invalid page size specified: '{text}'. Must be between 1 and {max} inclusive.");
        }

        return top;
    }

    private static string[]? Select(string? select) =>
        string.IsNullOrWhiteSpace(select) ? null : select.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static JsonObject Project(JsonObject doc, IEnumerable<string> properties)
    {
        var result = new JsonObject();
        foreach (var name in properties.Prepend("id").Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var match = doc.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase));
            result[match.Key ?? name] = match.Value?.DeepClone();
        }

        return result;
    }

    /// <summary>The next page's URL: the same query with a new $skiptoken (Graph keeps the query in the link).</summary>
    private static string NextLink(GraphRequest r, string path, string skipToken)
    {
        var query = r.Query.Where(p => p.Key != "$skiptoken")
            .Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}")
            .Append($"$skiptoken={skipToken}");
        return $"{r.ServiceRoot}/{path}?{string.Join('&', query)}";
    }

    private static JsonObject Collection(GraphRequest r, string context, IEnumerable<JsonNode> items, string? nextLink)
    {
        var body = new JsonObject
        {
            ["@odata.context"] = $"{r.ServiceRoot}/$metadata#{context}",
        };
        if (nextLink is not null)
        {
            body["@odata.nextLink"] = nextLink;
        }

        body["value"] = new JsonArray([.. items]);
        return body;
    }

    private static JsonObject RequireBody(GraphRequest r) =>
        r.Body as JsonObject ?? throw new FormatException("Empty Payload. JSON content expected.");

    // ---- users -------------------------------------------------------------------------------------------------

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

    // ---- delta ---------------------------------------------------------------------------------------------------

    /// <summary>What a delta page continues from: the token epoch, the change window (from, to], the last id served, the $select.</summary>
    private sealed record DeltaCursor(long Epoch, long From, long To, string? After, string? Select);

    private DeltaCursor? ReadCursor(GraphRequest r, out GraphResponse? expired)
    {
        expired = null;
        var epoch = Store.Read(GraphEmulator.DeltaEpoch);
        DeltaCursor cursor;
        if (Q(r, "$deltatoken") is { } deltaToken)
        {
            var parts = PageToken.Decode(deltaToken, 4);
            cursor = new DeltaCursor(long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture),
                Store.CurrentVersion, null, parts[2].Length == 0 ? null : parts[2]);
            var issued = new DateTimeOffset(long.Parse(parts[3], CultureInfo.InvariantCulture), TimeSpan.Zero);
            if (emulator.Clock.GetUtcNow() - issued > emulator.Options.DeltaTokenLifetime)
            {
                cursor = cursor with { Epoch = -1 };
            }
        }
        else if (Q(r, "$skiptoken") is { } skipToken)
        {
            var parts = PageToken.Decode(skipToken, 5);
            cursor = new DeltaCursor(long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture),
                long.Parse(parts[2], CultureInfo.InvariantCulture), parts[3], parts[4].Length == 0 ? null : parts[4]);
        }
        else
        {
            return new DeltaCursor(epoch, 0, Store.CurrentVersion, null, Q(r, "$select"));
        }

        if (cursor.Epoch != epoch)
        {
            expired = GraphResponse.Error(410, "syncStateNotFound",
                "The sync state generation is not found. Restart the sync from the beginning (the delta token has expired).");
            return null;
        }

        return cursor;
    }

    private GraphResponse UsersDelta(GraphRequest r)
    {
        var cursor = ReadCursor(r, out var expired);
        if (cursor is null)
        {
            return expired!;
        }

        var pageSize = Math.Min(emulator.Options.DeltaPageSize, r.MaxPageSize ?? int.MaxValue);
        var select = Select(cursor.Select);
        var rows = Store.Read(s => s.UsersChanged(cursor.From, cursor.To, cursor.After, includeRemoved: cursor.From > 0, pageSize + 1));
        var items = rows.Take(pageSize).Select(row =>
        {
            if (row.Removed is not null)
            {
                return new JsonObject { ["id"] = row.Id, ["@removed"] = new JsonObject { ["reason"] = row.Removed } };
            }

            var json = Project(row.Doc, (select ?? DefaultUserProperties).Where(p => !p.Equals("manager", StringComparison.OrdinalIgnoreCase)));
            if (select?.Contains("manager", StringComparer.OrdinalIgnoreCase) == true && row.ManagerId is not null)
            {
                json["manager@delta"] = new JsonArray(new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = row.ManagerId });
            }

            return json;
        }).ToList<JsonNode>();
        return DeltaPageResponse(r, "users", cursor, rows.Count > pageSize ? rows[pageSize - 1].Id : null, items);
    }

    private GraphResponse GroupsDelta(GraphRequest r)
    {
        var cursor = ReadCursor(r, out var expired);
        if (cursor is null)
        {
            return expired!;
        }

        var pageSize = Math.Min(emulator.Options.DeltaPageSize, r.MaxPageSize ?? int.MaxValue);
        var select = Select(cursor.Select);
        var withMembers = select is null || select.Contains("members", StringComparer.OrdinalIgnoreCase);
        var (rows, items) = Store.Read(s =>
        {
            var groups = s.GroupsChanged(cursor.From, cursor.To, cursor.After, includeRemoved: cursor.From > 0, pageSize + 1);
            // A page carries at most DeltaMembersPerPage member entries (and at least one group): large groups make short pages.
            var memberBudget = Math.Max(1, emulator.Options.DeltaMembersPerPage);
            var json = groups.Take(pageSize).TakeWhile(_ => memberBudget > 0).Select(row =>
            {
                if (row.Removed is not null)
                {
                    return new JsonObject { ["id"] = row.Id, ["@removed"] = new JsonObject { ["reason"] = row.Removed } };
                }

                var group = Project(row.Doc, (select ?? DefaultGroupProperties).Where(p => !p.Equals("members", StringComparison.OrdinalIgnoreCase)));
                if (withMembers)
                {
                    // A full round lists every member; later rounds list what changed, removals with @removed.
                    var members = cursor.From == 0
                        ? s.MemberIds(row.Id, null, int.MaxValue).Select(id => (Id: id, Removed: false))
                        : s.MembersChanged(row.Id, cursor.From, cursor.To).Select(m => (Id: m.UserId, m.Removed));
                    var listed = members.ToList();
                    memberBudget -= listed.Count;
                    group["members@delta"] = new JsonArray([.. listed.Select(m =>
                    {
                        var entry = new JsonObject { ["@odata.type"] = s.GetGroup(m.Id) is null ? "#microsoft.graph.user" : "#microsoft.graph.group", ["id"] = m.Id };
                        if (m.Removed)
                        {
                            entry["@removed"] = new JsonObject { ["reason"] = "deleted" };
                        }

                        return (JsonNode)entry;
                    })]);
                }

                return group;
            }).ToList<JsonNode>();
            return (groups, json);
        });
        return DeltaPageResponse(r, "groups", cursor, rows.Count > items.Count ? rows[items.Count - 1].Id : null, items);
    }

    private GraphResponse DeltaPageResponse(GraphRequest r, string collection, DeltaCursor cursor, string? lastIdWhenMore, List<JsonNode> items)
    {
        var body = new JsonObject { ["@odata.context"] = $"{r.ServiceRoot}/$metadata#{collection}" };
        if (lastIdWhenMore is not null)
        {
            body["@odata.nextLink"] = $"{r.ServiceRoot}/{collection}/delta?$skiptoken={PageToken.Encode(cursor.Epoch, cursor.From, cursor.To, lastIdWhenMore, cursor.Select)}";
        }
        else
        {
            body["@odata.deltaLink"] = $"{r.ServiceRoot}/{collection}/delta?$deltatoken={PageToken.Encode(cursor.Epoch, cursor.To, cursor.Select, emulator.Clock.GetUtcNow().UtcTicks)}";
        }

        body["value"] = new JsonArray([.. items]);
        return GraphResponse.Json(body);
    }

    // ---- groups --------------------------------------------------------------------------------------------------

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

    // ---- risk detections ---------------------------------------------------------------------------------------------

    private GraphResponse ListRiskDetections(GraphRequest r)
    {
        if (!emulator.IdentityProtection.TryEnter())
        {
            return IdentityProtectionLimit.TooManyRequests();
        }

        var filter = Q(r, "$filter") is { } f ? ODataFilter.Parse(f) : null;
        var top = Top(r, DefaultPageSize, RiskDetectionsMaxPageSize);
        var after = Q(r, "$skiptoken") is { } token ? PageToken.Decode(token, 1)[0] : null;
        var found = Store.Read(s => s.ScanRiskDetections(after).Where(d => filter is null || filter.Matches(d)).Take(top + 1).ToList());
        var page = found.Take(top).ToList();
        var next = found.Count > top ? NextLink(r, "identityProtection/riskDetections", PageToken.Encode(page[^1]["id"]!.GetValue<string>())) : null;
        return GraphResponse.Json(Collection(r, "identityProtection/riskDetections", page, next));
    }

    // ---- subscriptions -------------------------------------------------------------------------------------------

    private static string? NormalizeResource(string? resource) => resource?.Trim('/').ToLowerInvariant() switch
    {
        "users" => "users",
        "groups" => "groups",
        _ => null,
    };

    private static bool IsEventGrid(string url) => url.StartsWith("EventGrid:", StringComparison.OrdinalIgnoreCase);

    /// <summary>https, http on loopback (the emulator allows it for local hosts), or the Event Grid form with its four parameters.</summary>
    private static string? InvalidUrl(string? url, string name)
    {
        if (url is null)
        {
            return null;
        }

        if (IsEventGrid(url))
        {
            var query = url["EventGrid:".Length..].TrimStart('?').Split('&').Select(p => p.Split('=')[0].ToLowerInvariant()).ToHashSet();
            return EventGridParameters.All(query.Contains)
                ? null
                : $"{name}: the EventGrid form needs azuresubscriptionid, resourcegroup, partnertopic and location.";
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            ? null
            : $"{name} must be an https URL.";
    }

    private GraphResponse? InvalidExpiration(DateTimeOffset? expiration)
    {
        var now = emulator.Clock.GetUtcNow();
        if (expiration is null || expiration <= now)
        {
            return GraphResponse.Error(400, "ExtensionError", "Subscription expiration must be in the future.");
        }

        return expiration > now.AddMinutes(emulator.Options.MaxSubscriptionMinutes)
            ? GraphResponse.Error(400, "ExtensionError",
                $"Subscription expiration can only be {emulator.Options.MaxSubscriptionMinutes} minutes in the future.")
            : null;
    }

    private static DateTimeOffset? Date(JsonNode? node) =>
        node?.GetValue<string>() is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null;

    private async Task<bool> ValidateAsync(JsonObject subscription, CancellationToken ct)
    {
        foreach (var name in new[] { "notificationUrl", "lifecycleNotificationUrl" })
        {
            if (subscription[name]?.GetValue<string>() is { } url && !IsEventGrid(url) && !await emulator.ValidateEndpointAsync(url, ct))
            {
                return false;
            }
        }

        return true;
    }

    private static JsonObject SubscriptionJson(JsonObject stored, bool withClientState)
    {
        var json = (JsonObject)stored.DeepClone();
        if (!withClientState)
        {
            json["clientState"] = null;
        }

        return json;
    }

    private GraphResponse ListSubscriptions(GraphRequest r) =>
        GraphResponse.Json(Collection(r, "subscriptions", Store.Read(s => s.ListSubscriptions()).Select(d => SubscriptionJson(d, false)), null));

    private GraphResponse GetSubscription(string id) =>
        Store.Read(s => s.GetSubscription(id)) is { } doc ? GraphResponse.Json(SubscriptionJson(doc, false)) : GraphResponse.NotFound("subscription", id);

    private async Task<GraphResponse> CreateSubscriptionAsync(GraphRequest r, CancellationToken ct)
    {
        var body = RequireBody(r);
        var resource = body["resource"]?.GetValue<string>();
        var changeType = body["changeType"]?.GetValue<string>();
        var notificationUrl = body["notificationUrl"]?.GetValue<string>();
        var lifecycleUrl = body["lifecycleNotificationUrl"]?.GetValue<string>();
        if (NormalizeResource(resource) is null)
        {
            return GraphResponse.Error(400, "ExtensionError", $"Resource '{resource}' is not supported by the emulator (users, groups).");
        }

        if (string.IsNullOrEmpty(changeType) || changeType.Split(',').Any(c => c.Trim() is not ("created" or "updated" or "deleted")))
        {
            return GraphResponse.Error(400, "ExtensionError", "changeType must be a comma-separated list of created, updated, deleted.");
        }

        if (string.IsNullOrEmpty(notificationUrl))
        {
            return GraphResponse.Error(400, "ExtensionError", "notificationUrl is required.");
        }

        if ((InvalidUrl(notificationUrl, "notificationUrl") ?? InvalidUrl(lifecycleUrl, "lifecycleNotificationUrl")) is { } urlProblem)
        {
            return GraphResponse.Error(400, "ExtensionError", urlProblem);
        }

        var expiration = Date(body["expirationDateTime"]);
        if (InvalidExpiration(expiration) is { } expirationProblem)
        {
            return expirationProblem;
        }

        var existing = Store.Read(s => s.ListSubscriptions());
        if (existing.Any(e => NormalizeResource(e["resource"]?.GetValue<string>()) == NormalizeResource(resource)
            && string.Equals(e["notificationUrl"]?.GetValue<string>(), notificationUrl, StringComparison.OrdinalIgnoreCase)
            && string.Equals(e["changeType"]?.GetValue<string>(), changeType, StringComparison.OrdinalIgnoreCase)))
        {
            return GraphResponse.Error(409, "Conflict", "A subscription for this resource, change type and notification URL already exists.");
        }

        if (existing.Count >= emulator.Options.MaxSubscriptions)
        {
            return GraphResponse.Error(403, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: Subscription limit reached]");
        }

        var id = Guid.NewGuid().ToString();
        var doc = new JsonObject
        {
            ["@odata.context"] = $"{r.ServiceRoot}/$metadata#subscriptions/$entity",
            ["id"] = id,
            ["resource"] = resource,
            ["applicationId"] = emulator.Options.ClientId,
            ["changeType"] = changeType,
            ["clientState"] = body["clientState"]?.DeepClone(),
            ["notificationUrl"] = notificationUrl,
            ["lifecycleNotificationUrl"] = lifecycleUrl,
            ["expirationDateTime"] = GraphEmulator.Timestamp(expiration!.Value),
            ["creatorId"] = emulator.Options.ClientId,
            ["includeResourceData"] = false,
            ["latestSupportedTlsVersion"] = "v1_2",
            ["notificationUrlAppId"] = null,
        };
        if (!await ValidateAsync(doc, ct))
        {
            return GraphResponse.Error(400, "ValidationError",
                "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.");
        }

        Store.InTransaction(s =>
        {
            s.PutSubscription(id, doc);
            return 0;
        });
        return GraphResponse.Json(SubscriptionJson(doc, true), 201);
    }

    private async Task<GraphResponse> RenewSubscriptionAsync(GraphRequest r, string id, CancellationToken ct)
    {
        var doc = Store.Read(s => s.GetSubscription(id));
        if (doc is null)
        {
            return GraphResponse.NotFound("subscription", id);
        }

        var expiration = Date(RequireBody(r)["expirationDateTime"]);
        if (InvalidExpiration(expiration) is { } problem)
        {
            return problem;
        }

        if (!await ValidateAsync(doc, ct))
        {
            return GraphResponse.Error(400, "ValidationError",
                "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.");
        }

        doc["expirationDateTime"] = GraphEmulator.Timestamp(expiration!.Value);
        Store.InTransaction(s =>
        {
            s.PutSubscription(id, doc);
            return 0;
        });
        return GraphResponse.Json(SubscriptionJson(doc, false));
    }

    private GraphResponse DeleteSubscription(string id) =>
        Store.InTransaction(s => s.DeleteSubscription(id)) ? GraphResponse.NoContent() : GraphResponse.NotFound("subscription", id);

    private GraphResponse Reauthorize(string id) =>
        Store.Read(s => s.GetSubscription(id)) is null ? GraphResponse.NotFound("subscription", id) : GraphResponse.NoContent();

    // ---- $batch ------------------------------------------------------------------------------------------------

    /// <summary>JSON batching: up to 20 requests, answered in one response; each item can be throttled on its own.</summary>
    private async Task<GraphResponse> BatchAsync(GraphRequest r, CancellationToken ct)
    {
        var requests = RequireBody(r)["requests"] as JsonArray ?? throw new FormatException("A batch needs a 'requests' array.");
        if (requests.Count > BatchLimit)
        {
            return GraphResponse.Error(400, "BadRequest", $"Number of batch request steps exceeds the maximum value of {BatchLimit}.");
        }

        var responses = new JsonArray();
        foreach (var item in requests.OfType<JsonObject>())
        {
            var id = item["id"]?.GetValue<string>() ?? throw new FormatException("Every batch request needs an id.");
            var url = item["url"]?.GetValue<string>() ?? throw new FormatException("Every batch request needs a url.");
            var (path, query) = SplitBatchUrl(url);
            GraphResponse answer;
            if (emulator.Faults.Take(path, insideBatch: true) is { Kind: not GraphFaultKind.Latency } fault)
            {
                answer = FaultResponse(fault);
            }
            else
            {
                // Each request in a batch carries its own headers: ConsistencyLevel is not inherited from the batch.
                var consistency = (item["headers"] as JsonObject)?.FirstOrDefault(h => string.Equals(h.Key, "ConsistencyLevel", StringComparison.OrdinalIgnoreCase)).Value;
                answer = await HandleAsync(r with
                {
                    Method = item["method"]?.GetValue<string>() ?? "GET",
                    Path = path,
                    Query = query,
                    Body = item["body"]?.DeepClone(),
                    EventualConsistency = GraphEmulatorEndpoints.EventuallyConsistent(consistency?.GetValue<string>()),
                }, ct);
            }

            var headers = new JsonObject();
            if (answer.Body is not null)
            {
                headers["Content-Type"] = "application/json";
            }

            foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
            {
                headers[name] = value;
            }

            responses.Add(new JsonObject { ["id"] = id, ["status"] = answer.Status, ["headers"] = headers, ["body"] = answer.Body?.DeepClone() });
        }

        return GraphResponse.Json(new JsonObject { ["responses"] = responses });
    }

    internal static GraphResponse FaultResponse(GraphFault fault)
    {
        var headers = fault.RetryAfter is { } after
            ? new Dictionary<string, string> { ["Retry-After"] = ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture) }
            : null;
        return fault.Kind == GraphFaultKind.Throttle
            ? GraphResponse.Error(429, "TooManyRequests", "Too many requests.", headers)
            : GraphResponse.Error(503, "serviceNotAvailable", "The service is temporarily unavailable.", headers);
    }

    /// <summary>
    /// Batch URLs are relative to the version root ("/users/{id}?$select=…"). Some clients leave part of a longer base
    /// path in front, so everything up to the last "v1.0/" is dropped, and otherwise anything before a known root.
    /// </summary>
    private static (string Path, Dictionary<string, string> Query) SplitBatchUrl(string url)
    {
        var questionMark = url.IndexOf('?', StringComparison.Ordinal);
        var path = questionMark < 0 ? url : url[..questionMark];
        var version = path.LastIndexOf("v1.0/", StringComparison.OrdinalIgnoreCase);
        if (version >= 0)
        {
            path = path[(version + 5)..];
        }
        else
        {
            var segments = path.Trim('/').Split('/');
            var root = Array.FindIndex(segments, p => p.ToLowerInvariant() is "users" or "groups" or "subscriptions" or "identityprotection" or "$batch");
            path = string.Join('/', root < 0 ? segments : segments[root..]);
        }

        return (path, ParseQuery(questionMark < 0 ? "" : url[(questionMark + 1)..]));
    }

    internal static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            result[name] = value;
        }

        return result;
    }
}
