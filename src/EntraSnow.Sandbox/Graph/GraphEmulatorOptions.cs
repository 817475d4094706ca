namespace EntraSnow.Sandbox.Graph;

/// <summary>How the Graph emulator behaves. Defaults follow Graph's documented limits.</summary>
public sealed class GraphEmulatorOptions
{
    /// <summary>SQLite file; null keeps everything in memory for the life of the process.</summary>
    public string? DatabasePath { get; set; }

    public string TenantId { get; set; } = "b7a9c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d";

    /// <summary>The app id stamped on subscriptions; also the only client id the token endpoint accepts when <see cref="ClientSecret"/> is set.</summary>
    public string ClientId { get; set; } = "entrasnow-sandbox";

    /// <summary>When set, the token endpoint accepts only this secret (and <see cref="ClientId"/>); when null, any client may get a token.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Refuse API calls without a bearer token from the token endpoint (401), as Graph does.</summary>
    public bool RequireAuthorization { get; set; } = true;

    /// <summary>Graph gives a notification endpoint 10 seconds to echo the validation token.</summary>
    public TimeSpan ValidationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Objects per delta page (Graph caps user and group delta pages at 200).</summary>
    public int DeltaPageSize { get; set; } = 200;

    /// <summary>Member entries a groups delta page carries at most (whole groups, at least one a page): pages of large groups hold few groups.</summary>
    public int DeltaMembersPerPage { get; set; } = 5_000;

    /// <summary>Delta tokens older than this answer 410 syncStateNotFound, as Graph's do after about seven days.</summary>
    public TimeSpan DeltaTokenLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>False acts like a tenant without Entra ID P1 or an app without AuditLog.Read.All: signInActivity is refused (403).</summary>
    public bool SignInActivityAvailable { get; set; } = true;

    /// <summary>False acts like an app without AuditLog.Read.All: <c>auditLogs/directoryAudits</c> answers 403 Authorization_RequestDenied.</summary>
    public bool DirectoryAuditsAvailable { get; set; } = true;

    /// <summary>
    /// How long after a change its directory audit entry can be listed: Graph publishes entries minutes (typically up to
    /// 15) after the activity. Zero lists them at once.
    /// </summary>
    public TimeSpan DirectoryAuditPublicationLag { get; set; } = TimeSpan.Zero;

    /// <summary>Who the audit log says made changes through the admin verbs (and admin routes) that name nobody.</summary>
    public string AdministratorUserPrincipalName { get; set; } = "sandbox.admin@contoso.example";

    /// <summary>The name the audit log gives the app that calls the API (the holder of <see cref="ClientId"/>'s tokens).</summary>
    public string ClientDisplayName { get; set; } = "EntraSnow";

    /// <summary>Largest $top with a signInActivity filter: 500 today; set 120 to act like tenants that still refuse 500.</summary>
    public int SignInActivityMaxPageSize { get; set; } = 500;

    /// <summary>Identity Protection (riskDetections) serves one request per second per tenant; a sooner one gets 429 without Retry-After. Zero lifts the limit.</summary>
    public TimeSpan IdentityProtectionMinInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The application permissions the tokens carry in their <c>roles</c> claim, comma-separated: by default every one
    /// EntraSnow can use (infra/graph-permissions.json). Listed only: the API does not refuse a call for a missing one.
    /// </summary>
    public string AppRoles { get; set; } =
        "User.Read.All,Group.Read.All,GroupMember.Read.All,IdentityRiskEvent.Read.All,GroupMember.ReadWrite.All,AuditLog.Read.All," +
        "User.EnableDisableAccount.All,UserAuthenticationMethod.ReadWrite.All,User-PasswordProfile.ReadWrite.All," +
        "RoleManagement.Read.Directory,Mail.Send,User.RevokeSessions.All";

    /// <summary>Directory subscriptions may last at most 41,760 minutes.</summary>
    public int MaxSubscriptionMinutes { get; set; } = 41_760;

    /// <summary>Graph allows 100 subscriptions per app and tenant for directory resources.</summary>
    public int MaxSubscriptions { get; set; } = 100;
}
