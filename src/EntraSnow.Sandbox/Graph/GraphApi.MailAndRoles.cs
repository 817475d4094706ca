using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// <c>POST /users/{id}/sendMail</c>, <c>GET /roleManagement/directory/roleAssignments?$filter=principalId eq '…'</c> and
/// <c>DELETE /users/{id}/authentication/temporaryAccessPassMethods/{methodId}</c>.
/// </summary>
internal sealed partial class GraphApi
{
    private GraphResponse? RouteMailAndRoles(string method, string[] s, GraphRequest r) => (method, s.Length) switch
    {
        ("POST", 3) when s[0] == "users" && s[2] == "sendMail" => SendMail(r, s[1]),
        ("GET", 3) when s[0] == "roleManagement" && s[1] == "directory" && s[2] == "roleAssignments" => ListRoleAssignments(r),
        ("DELETE", 5) when s[0] == "users" && s[2] == "authentication" && s[3] == "temporaryAccessPassMethods" => DeleteAccessPass(s[1], s[4]),
        _ => null,
    };

    private GraphResponse SendMail(GraphRequest r, string from)
    {
        // A mailbox of the tenant (a user), or, for the sandbox's shared service-desk mailbox, any address.
        var sender = Store.Read(st => st.GetUser(from) ?? st.GetUserByUserPrincipalName(from));
        if (sender is not { Removed: null } && !from.Contains('@', StringComparison.Ordinal))
        {
            return GraphResponse.NotFound("user", from);
        }

        // Graph reads property names case-insensitively; the SDK sends "Message" and "SaveToSentItems".
        var body = RequireBody(r);
        var message = Get(body, "message") as JsonObject ?? throw new FormatException("sendMail needs a 'message'.");
        var to = (Get(message, "toRecipients") as JsonArray ?? [])
            .Select(t => Get(Get(t, "emailAddress"), "address")?.GetValue<string>())
            .OfType<string>()
            .ToList();
        if (to.Count == 0)
        {
            return GraphResponse.Error(400, "ErrorInvalidRecipients", "At least one recipient is required.");
        }

        emulator.MailboxAndRoles.Capture(new CapturedMail(
            sender?.Doc["userPrincipalName"]?.GetValue<string>() ?? from,
            to,
            Get(message, "subject")?.GetValue<string>() ?? string.Empty,
            Get(Get(message, "body"), "content")?.GetValue<string>() ?? string.Empty,
            Get(body, "saveToSentItems")?.GetValue<bool>() ?? true,
            emulator.Clock.GetUtcNow()));
        return new GraphResponse(202);
    }

    /// <summary>As Graph: 204 once deleted, 404 for a pass the user does not have.</summary>
    private GraphResponse DeleteAccessPass(string userId, string methodId) =>
        Store.InTransaction(st => st.DeleteAccessPass(methodId, userId)) > 0
            ? new GraphResponse(204)
            : GraphResponse.NotFound("temporaryAccessPassMethod", methodId);

    private static JsonNode? Get(JsonNode? node, string name) =>
        node is JsonObject o ? o.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value : null;

    private GraphResponse ListRoleAssignments(GraphRequest r)
    {
        string? principal = null;
        if (Q(r, "$filter") is { } filter)
        {
            var match = PrincipalFilter().Match(filter);
            principal = match.Success ? match.Groups["id"].Value : throw new FormatException($"Unsupported filter: {filter}");
        }

        return GraphResponse.Json(Collection(r, "roleManagement/directory/roleAssignments", emulator.MailboxAndRoles.AssignmentsOf(principal), null));
    }

    [GeneratedRegex(@"^\s*principalId\s+eq\s+'(?<id>[^']+)'\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex PrincipalFilter();
}
