using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>Who started an audited activity (Graph's <c>initiatedBy</c>): a user, or an application acting on its own.</summary>
public sealed record AuditInitiator
{
    public string? UserId { get; init; }
    public string? UserPrincipalName { get; init; }
    public string? AppId { get; init; }
    public string? AppDisplayName { get; init; }

    public static AuditInitiator User(string userPrincipalName, string? userId = null) =>
        new() { UserPrincipalName = userPrincipalName, UserId = userId ?? StableId(userPrincipalName) };

    public static AuditInitiator App(string displayName, string? appId = null) =>
        new() { AppDisplayName = displayName, AppId = appId ?? StableId(displayName) };

    // The same name always gets the same object id, as one account or app has one in a tenant.
    private static string StableId(string name) =>
        new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name.ToLowerInvariant()))[..16]).ToString();
}

/// <summary>
/// The directory audit log (<c>auditLogs/directoryAudits</c>): every membership change made through the API or the admin
/// verbs writes an "Add member to group" / "Remove member from group" entry, as Entra ID does, with its initiator.
/// </summary>
public sealed partial class GraphEmulator
{
    /// <summary>The initiator of admin-verb changes that name none: the sandbox tenant's administrator.</summary>
    public AuditInitiator Administrator => AuditInitiator.User(Options.AdministratorUserPrincipalName);

    /// <summary>API calls are made by the app that holds the token (the emulator issues tokens to one client).</summary>
    internal AuditInitiator CallingApp => AuditInitiator.App(Options.ClientDisplayName, Options.ClientId);

    /// <summary>Every directory audit entry, newest first, as Graph lists them.</summary>
    public IReadOnlyList<JsonObject> DirectoryAudits => Store.Read(s => s.ScanAuditsNewestFirst(null).Select(a => a.Doc).ToList());

    public async Task<IReadOnlyList<NotificationDelivery>> AddGroupMemberAsync(string groupId, string userId, AuditInitiator by, CancellationToken cancellationToken = default) =>
        ChangeMembership(groupId, userId, add: true, by) is null
            ? await NotifyAsync("Groups", groupId, "updated", cancellationToken)
            : throw new KeyNotFoundException($"No group {groupId} or user {userId} in the Graph emulator.");

    public async Task<IReadOnlyList<NotificationDelivery>> RemoveGroupMemberAsync(string groupId, string userId, AuditInitiator by, CancellationToken cancellationToken = default) =>
        ChangeMembership(groupId, userId, add: false, by) is null
            ? await NotifyAsync("Groups", groupId, "updated", cancellationToken)
            : throw new KeyNotFoundException($"User {userId} is not a member of group {groupId} in the Graph emulator.");

    /// <summary>Writes the entry Entra ID writes for a membership change, in the change's own transaction.</summary>
    private void AuditMembership(GraphStore.Session s, GraphStore.GroupRow group, string memberId, bool added, AuditInitiator by)
    {
        var user = s.GetUser(memberId);
        var memberName = user?.Doc["displayName"]?.GetValue<string>() ?? s.GetGroup(memberId)?.Doc["displayName"]?.GetValue<string>();
        var groupName = group.Doc["displayName"]?.GetValue<string>();
        s.AppendAudit(new JsonObject
        {
            ["id"] = $"Directory_{Guid.NewGuid()}",
            ["category"] = "GroupManagement",
            ["correlationId"] = Guid.NewGuid().ToString(),
            ["result"] = "success",
            ["resultReason"] = "",
            ["activityDisplayName"] = added ? "Add member to group" : "Remove member from group",
            ["activityDateTime"] = Timestamp(Clock.GetUtcNow()),
            ["loggedByService"] = "Core Directory",
            ["operationType"] = added ? "Assign" : "Unassign",
            ["initiatedBy"] = new JsonObject
            {
                ["user"] = by.UserPrincipalName is null && by.UserId is null ? null : new JsonObject
                {
                    ["id"] = by.UserId,
                    ["displayName"] = null,
                    ["userPrincipalName"] = by.UserPrincipalName,
                    ["ipAddress"] = "203.0.113.10",
                },
                ["app"] = by.AppDisplayName is null && by.AppId is null ? null : new JsonObject
                {
                    ["appId"] = by.AppId,
                    ["displayName"] = by.AppDisplayName,
                    ["servicePrincipalId"] = by.AppId,
                    ["servicePrincipalName"] = by.AppDisplayName,
                },
            },
            ["targetResources"] = new JsonArray(
                new JsonObject
                {
                    ["id"] = memberId,
                    ["displayName"] = memberName,
                    ["type"] = user is null ? "Group" : "User",
                    ["userPrincipalName"] = user?.Doc["userPrincipalName"]?.GetValue<string>(),
                    ["modifiedProperties"] = new JsonArray(
                        new JsonObject { ["displayName"] = "Group.ObjectID", ["oldValue"] = added ? null : $"\"{group.Id}\"", ["newValue"] = added ? $"\"{group.Id}\"" : null },
                        new JsonObject { ["displayName"] = "Group.DisplayName", ["oldValue"] = added ? null : $"\"{groupName}\"", ["newValue"] = added ? $"\"{groupName}\"" : null }),
                },
                new JsonObject
                {
                    ["id"] = group.Id,
                    ["displayName"] = groupName,
                    ["type"] = "Group",
                    ["userPrincipalName"] = null,
                    ["modifiedProperties"] = new JsonArray(),
                }),
            ["additionalDetails"] = new JsonArray(),
        });
    }
}
