using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>One message sent through <c>sendMail</c>, as the recipient would read it.</summary>
public sealed record CapturedMail(string From, IReadOnlyList<string> To, string Subject, string Body, bool SavedToSentItems, DateTimeOffset At);

/// <summary>
/// Mail sent through the emulator and directory role assignments. Both live in memory only: mail is delivered
/// elsewhere in a real tenant, never into the emulator's database, so a pass it carries is not left in a file.
/// </summary>
public sealed class GraphMailboxAndRoles
{
    private readonly ConcurrentQueue<CapturedMail> _mail = new();
    private readonly ConcurrentDictionary<string, (string PrincipalId, string RoleDefinitionId)> _assignments = new(StringComparer.Ordinal);

    /// <summary>Every message sent, oldest first.</summary>
    public IReadOnlyList<CapturedMail> Mail => [.. _mail];

    public void ClearMail() => _mail.Clear();

    internal void Capture(CapturedMail mail) => _mail.Enqueue(mail);

    /// <summary>Assigns a directory role (e.g. <c>62e90394-69f5-4237-9190-012177145e10</c>, Global Administrator) to a principal; returns the assignment id.</summary>
    public string AssignRole(string principalId, string roleDefinitionId)
    {
        var id = Guid.NewGuid().ToString();
        _assignments[id] = (principalId, roleDefinitionId);
        return id;
    }

    internal IEnumerable<JsonObject> AssignmentsOf(string? principalId) => _assignments
        .Where(a => principalId is null || string.Equals(a.Value.PrincipalId, principalId, StringComparison.OrdinalIgnoreCase))
        .Select(a => new JsonObject
        {
            ["id"] = a.Key,
            ["principalId"] = a.Value.PrincipalId,
            ["roleDefinitionId"] = a.Value.RoleDefinitionId,
            ["directoryScopeId"] = "/",
        });
}
