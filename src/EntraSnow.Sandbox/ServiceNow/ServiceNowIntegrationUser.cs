using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// The account the Table API is called as, and what its roles let it write. A base instance's table ACLs, simplified:
/// writing the user tables needs <c>user_admin</c>, the task tables <c>itil</c> (a security incident
/// <c>sn_si.analyst</c>); <c>admin</c> passes every ACL; other tables accept any writer. Its roles are readable as a
/// real instance serves them (<c>sys_user_has_role</c>, <c>role.name</c>), and <c>javascript:gs.getUserID()</c> in a
/// query is this account's sys_id. The account has no sys_user record of its own, so user counts stay the seeded ones.
/// </summary>
public sealed class ServiceNowIntegrationUser(IOptions<ServiceNowEmulatorOptions> options, ServiceNowEmulatorStore store)
{
    public const string CurrentUserScript = "javascript:gs.getUserID()";

    private static readonly Dictionary<string, string> WriteRoles = new(StringComparer.Ordinal)
    {
        ["sys_user"] = "user_admin",
        ["sys_user_group"] = "user_admin",
        ["sys_user_grmember"] = "user_admin",
        ["incident"] = "itil",
        ["change_request"] = "itil",
        ["sc_task"] = "itil",
        ["sc_req_item"] = "itil",
        ["sn_si_incident"] = "sn_si.analyst",
    };

    private readonly Lock _gate = new();
    private bool _rolesStored;

    /// <summary>The account's sys_id (stable for a user name).</summary>
    public string SysId => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("integration-user:" + options.Value.Username)))[..32];

    public IReadOnlyList<string> Roles =>
        options.Value.IntegrationUserRoles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Whether the account's roles pass the table's write ACL.</summary>
    public bool MayWrite(string table) =>
        Roles.Contains("admin", StringComparer.Ordinal)
        || !WriteRoles.TryGetValue(table, out var role)
        || Roles.Contains(role, StringComparer.Ordinal);

    /// <summary>The query with <see cref="CurrentUserScript"/> evaluated, as the instance does for the caller.</summary>
    public string? Evaluate(string? encodedQuery) =>
        encodedQuery?.Replace(CurrentUserScript, SysId, StringComparison.Ordinal);

    /// <summary>Writes the account's roles into sys_user_role and sys_user_has_role the first time either is read.</summary>
    public void StoreRoles()
    {
        lock (_gate)
        {
            if (_rolesStored)
            {
                return;
            }

            foreach (var role in Roles)
            {
                var roleId = store.Query("sys_user_role", $"name={role}") is [var existing, ..]
                    ? existing["sys_id"]
                    : store.Insert("sys_user_role", new Dictionary<string, string> { ["name"] = role })["sys_id"];
                if (store.Query("sys_user_has_role", $"user={SysId}^role={roleId}").Count == 0)
                {
                    store.Insert("sys_user_has_role", new Dictionary<string, string> { ["user"] = SysId, ["role"] = roleId });
                }
            }

            _rolesStored = true;
        }
    }
}
