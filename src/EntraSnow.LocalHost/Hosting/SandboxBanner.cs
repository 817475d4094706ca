using System.Text;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>
/// The few lines a newcomer reads when the sandbox starts: where to look, how to reach each emulator, three things to
/// try. The ServiceNow emulator's password is printed only while it is the documented default: one configured in
/// <c>Sandbox:ServiceNow:Password</c> is named, never shown.
/// </summary>
internal static class SandboxBanner
{
    public const string DefaultServiceNowUser = "admin";
    public const string DefaultServiceNowPassword = "sandbox";

    public static string Text(SandboxMode sandbox, IConfiguration configuration, SandboxConsoleOptions options)
    {
        var self = sandbox.SelfUrl;
        var emulated = string.Join(" and ", new[] { sandbox.Graph ? "Graph" : null, sandbox.ServiceNow ? "ServiceNow" : null }.OfType<string>());
        var text = new StringBuilder()
            .AppendLine()
            .AppendLine($"EntraSnow sandbox: {emulated} emulated in this process, data in LocalHost:DataPath.")
            .AppendLine($"  Status page          {self}/");
        if (sandbox.Graph)
        {
            text.AppendLine($"  Graph emulator       {self}{SandboxMode.GraphPrefix}/v1.0   token: POST {self}{SandboxMode.GraphPrefix}/{SandboxMode.TenantId}/oauth2/v2.0/token")
                .AppendLine($"                       (client credentials, any client); admin routes without auth: {self}{SandboxMode.GraphPrefix}/admin/…");
        }

        if (sandbox.ServiceNow)
        {
            var user = configuration["Sandbox:ServiceNow:Username"] ?? DefaultServiceNowUser;
            var password = configuration["Sandbox:ServiceNow:Password"] is null ? DefaultServiceNowPassword : "(the one set in Sandbox:ServiceNow:Password)";
            text.AppendLine($"  ServiceNow emulator  {self}{SandboxMode.ServiceNowPrefix}/api/now/table/sys_user   basic auth: {user} / {password}");
        }

        if (configuration[SandboxHttps.Setting] is { Length: > 0 } https)
        {
            // Real clients (the Graph JavaScript client, pysnc) want HTTPS: say where it is and how to trust it.
            text.AppendLine($"  Over HTTPS           {https.TrimEnd('/')}/… the same routes; trust its certificate: dotnet run --project src/EntraSnow.LocalHost -- sandbox cert");
        }

        text.AppendLine("  Try:")
            .AppendLine($"    1. open {self}/ and watch the first full sync provision the seeded users into ServiceNow");
        if (sandbox.Graph)
        {
            text.AppendLine($"    2. disable a user in Entra ID (an id from the status page): curl -X POST {self}{SandboxMode.GraphPrefix}/admin/users/<id>/disable")
                .AppendLine("       Graph notifies EntraSnow, which deactivates and locks their sys_user within seconds");
        }
        else
        {
            text.AppendLine("    2. change a user in your tenant: the notification reaches EntraSnow and the change lands in the ServiceNow emulator");
        }

        text.AppendLine("    3. every decision with its reason: dotnet run --project src/EntraSnow.LocalHost -- log")
            .AppendLine(options.LinePerUser
                ? "  Console: a line per user and group (Sandbox:Console:LinePerUser=true)."
                : "  Console: one summary line per batch of decisions; a line per user with --Sandbox:Console:LinePerUser=true.")
            .AppendLine();
        return text.ToString();
    }
}
