using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>
/// The integration account's roles, as an instance applies them: a base instance's table ACLs refuse writing the user
/// tables without user_admin, and the account can read its own roles with javascript:gs.getUserID().
/// </summary>
public sealed class ServiceNowEmulatorAclTests
{
    private static HttpClient Client(ServiceNowEmulatorServer sn)
    {
        var client = new HttpClient { BaseAddress = new Uri(sn.BaseUrl + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:sandbox")));
        return client;
    }

    [Fact]
    public async Task An_integration_user_with_itil_only_may_write_incidents_but_not_users()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(o => o.IntegrationUserRoles = "itil");
        using var client = Client(sn);

        using var user = await client.PostAsJsonAsync("api/now/table/sys_user", new { user_name = "ada" });
        using var incident = await client.PostAsJsonAsync("api/now/table/incident", new { short_description = "x" });
        using var read = await client.GetAsync("api/now/table/sys_user?sysparm_limit=1");

        Assert.Equal(HttpStatusCode.Forbidden, user.StatusCode);
        Assert.Equal(0, sn.Store.Count("sys_user"));
        Assert.Equal(HttpStatusCode.Created, incident.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task The_integration_user_reads_its_own_roles_through_the_current_user_script()
    {
        await using var sn = await ServiceNowEmulatorServer.StartAsync(o => o.IntegrationUserRoles = "itil,user_admin");
        using var client = Client(sn);

        var body = await client.GetFromJsonAsync<JsonObject>(
            $"api/now/table/sys_user_has_role?sysparm_query={Uri.EscapeDataString("user=javascript:gs.getUserID()")}&sysparm_fields=role.name");

        Assert.Equal(new[] { "itil", "user_admin" }, body!["result"]!.AsArray().Select(r => r!["role.name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }
}
