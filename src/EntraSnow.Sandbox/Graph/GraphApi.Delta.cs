using System.Globalization;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>Users and groups delta: pages read from a cursor, a delta link to go on from, an expired token answered as Graph does.</summary>
internal sealed partial class GraphApi
{
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
}
