namespace EntraSnow.LocalHost.Hosting;

/// <summary>
/// Which sides run against the bundled emulators. Graph is emulated when no tenant is configured (Graph:TenantId),
/// ServiceNow when no instance is (ServiceNow:InstanceUrl); with neither, the whole system runs on a laptop with no
/// account anywhere. The emulated side's settings are filled in to point at this process.
/// </summary>
public sealed record SandboxMode(bool Graph, bool ServiceNow, string SelfUrl)
{
    public const string GraphPrefix = "/sandbox/graph";
    public const string ServiceNowPrefix = "/sandbox/servicenow";

    /// <summary>Used only when Graph is emulated and no clientState is configured; a real tenant always needs its own.</summary>
    public const string SandboxClientState = "entrasnow-sandbox-client-state";

    /// <summary>
    /// Used only when ServiceNow is emulated and no webhook secret is configured: the emulator signs its catalog
    /// webhooks with it. A real instance always needs its own.
    /// </summary>
    public const string SandboxWebhookSigningSecret = EntraSnow.Sandbox.ServiceNow.Catalog.ServiceNowEmulatorWebhookOptions.DefaultSigningSecret;

    /// <summary>The mailbox password resets are e-mailed from when Graph is emulated and none is configured.</summary>
    public const string SandboxMailbox = "service-desk@sandbox.example";

    /// <summary>The emulated tenant and app (the Graph emulator's defaults).</summary>
    public const string TenantId = "b7a9c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
    public const string GraphClientId = "entrasnow-sandbox";

    public bool Any => Graph || ServiceNow;

    public static SandboxMode Apply(ConfigurationManager configuration, LocalHostOptions options)
    {
        var self = options.Url.TrimEnd('/');
        var graph = string.IsNullOrWhiteSpace(configuration["Graph:TenantId"]);
        var serviceNow = string.IsNullOrWhiteSpace(configuration["ServiceNow:InstanceUrl"]);
        var values = new Dictionary<string, string?>();
        if (graph)
        {
            values["Graph:TenantId"] = TenantId;
            values["Graph:ClientId"] = GraphClientId;
            values["Graph:Credential"] = "Sandbox";
            values["Graph:ClientSecret"] = "sandbox-secret";
            values["Graph:BaseUrl"] = $"{self}{GraphPrefix}/v1.0";
            values["Graph:ClientState"] = configuration["Graph:ClientState"] is { Length: > 0 } configured ? configured : SandboxClientState;
            // The emulator captures mail (admin route /sandbox/graph/admin/mailbox) instead of delivering it.
            values["PasswordReset:SendFrom"] = configuration["PasswordReset:SendFrom"] ?? SandboxMailbox;
            values["Subscriptions:NotificationUrl"] = configuration["Subscriptions:NotificationUrl"] ?? $"{self}/api/graph/notifications";
            values["Subscriptions:LifecycleNotificationUrl"] = configuration["Subscriptions:LifecycleNotificationUrl"] ?? $"{self}/api/graph/lifecycle";
        }

        if (serviceNow)
        {
            values["ServiceNow:InstanceUrl"] = $"{self}{ServiceNowPrefix}";
            values["ServiceNow:AuthMode"] = "Basic";
            values["ServiceNow:Username"] = configuration["Sandbox:ServiceNow:Username"] ?? "admin";
            values["ServiceNow:Password"] = configuration["Sandbox:ServiceNow:Password"] ?? "sandbox";
            // A group the emulator is seeded with, so `sweep --dry-run` works out of the box (the timer stays off).
            values["InactiveSweep:AssignmentGroup"] = configuration["InactiveSweep:AssignmentGroup"] ?? "Identity and Access Management";
            var signingSecret = configuration["ServiceNowWebhook:SigningSecret"] is { Length: > 0 } secret ? secret : SandboxWebhookSigningSecret;
            values["ServiceNowWebhook:SigningSecret"] = signingSecret;
            // The emulator plays the shipped ServiceNow app: it signs with the same secret and calls this process.
            values["Sandbox:ServiceNow:Webhooks:SigningSecret"] = signingSecret;
            values["Sandbox:ServiceNow:Webhooks:BaseUrl"] = configuration["Sandbox:ServiceNow:Webhooks:BaseUrl"] ?? self;
        }

        configuration.AddInMemoryCollection(values);
        return new SandboxMode(graph, serviceNow, self);
    }
}
