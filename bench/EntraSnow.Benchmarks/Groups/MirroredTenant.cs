using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Benchmarks.Groups;

/// <summary>
/// A ServiceNow emulator that already holds the directory as EntraSnow mirrors it: a sys_user per user, a
/// sys_user_group per group with the fields a full reading writes, and a sys_user_grmember row per membership, written
/// straight into the store. A benchmark then measures readings over an already-mirrored tenant without first paying
/// for millions of membership writes; a row that differs from what EntraSnow would write shows as ServiceNow writes.
/// </summary>
internal static class MirroredTenant
{
    // The object id field the emulator's dictionary has and EntraSnow writes by default (Provisioning:ObjectIdField).
    private const string ObjectIdField = "u_entra_object_id";

    /// <summary>Each user's sys_user (the fields a user's lookup by object id reads); returns their sys_ids by object id.</summary>
    public static Dictionary<string, string> ProvisionUsers(GraphEmulator graph, ServiceNowEmulatorStore serviceNow, IEnumerable<string> userIds)
    {
        var sysIds = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var userId in userIds)
        {
            sysIds[userId] = serviceNow.Insert("sys_user", new Dictionary<string, string>
            {
                ["user_name"] = graph.GetUser(userId)!["userPrincipalName"]!.GetValue<string>(),
                [ObjectIdField] = userId,
            })["sys_id"];
        }

        return sysIds;
    }

    /// <summary>Users, groups and memberships of <paramref name="seeded"/>, as EntraSnow's full reading would have written them.</summary>
    public static void Write(GraphEmulator graph, ServiceNowEmulatorStore serviceNow, GraphSeedResult seeded)
    {
        var users = ProvisionUsers(graph, serviceNow, seeded.UserIds);
        foreach (var groupId in seeded.GroupIds)
        {
            var group = graph.GetGroup(groupId)!;
            var groupSysId = serviceNow.Insert("sys_user_group", new Dictionary<string, string>
            {
                [ObjectIdField] = groupId,
                ["name"] = group["displayName"]?.GetValue<string>() ?? groupId,
                ["description"] = group["description"]?.GetValue<string>() ?? string.Empty,
                ["email"] = group["mail"]?.GetValue<string>() ?? string.Empty,
                ["active"] = "true",
            })["sys_id"];
            foreach (var memberId in graph.GroupMemberIds(groupId))
            {
                serviceNow.Insert("sys_user_grmember", new Dictionary<string, string> { ["user"] = users[memberId], ["group"] = groupSysId });
            }
        }
    }
}
