namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>Settings of the ServiceNow emulator (section "Sandbox:ServiceNow" when a configuration is present).</summary>
public sealed class ServiceNowEmulatorOptions
{
    /// <summary>The SQLite file holding the records; ":memory:" keeps them in memory for the emulator's lifetime.</summary>
    public string DatabasePath { get; set; } = ":memory:";

    /// <summary>The basic-auth account (DESIGN.md: Sandbox:ServiceNow:Username / Password).</summary>
    public string Username { get; set; } = "admin";

    public string Password { get; set; } = "sandbox";

    /// <summary>The OAuth client /oauth_token.do accepts for client credentials.</summary>
    public string ClientId { get; set; } = "entrasnow-sandbox";

    public string ClientSecret { get; set; } = "sandbox";

    /// <summary>expires_in of the tokens it issues (ServiceNow's default is 1800 s).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// An inbound REST rate-limit rule for the integration account, as a real instance's <c>sys_rate_limit_rules</c>: at most
    /// this many Table API requests per clock hour. Every Table API answer then carries X-RateLimit-Limit, X-RateLimit-Reset
    /// (Unix time of the next hourly reset) and X-RateLimit-Rule, and a request beyond the limit is answered 429 with
    /// Retry-After (seconds to the reset). Null (the default): no rule, no headers.
    /// </summary>
    public int? RateLimitPerHour { get; set; }

    /// <summary>Added to every answer (milliseconds): 50 plays a fast real instance. The faults' latency starts here and returns here on reset.</summary>
    public int LatencyMs { get; set; }

    /// <summary>
    /// Fields the instance has beyond the documented ones, per table, comma-separated: by default the Entra object id
    /// fields an instance with EntraSnow's customisation has. An empty value plays an instance without them.
    /// </summary>
    public Dictionary<string, string> CustomFields { get; set; } = new(StringComparer.Ordinal)
    {
        ["sys_user"] = "u_entra_object_id,x_entrasnow_entra_object_id",
        ["sys_user_group"] = "u_entra_object_id,x_entrasnow_entra_object_id",
    };

    /// <summary>
    /// The integration account's roles, comma-separated (sys_user_has_role): <c>admin</c> passes every ACL; without it,
    /// writing the user tables needs <c>user_admin</c> and the task tables <c>itil</c> (<see cref="ServiceNowIntegrationUser"/>).
    /// </summary>
    public string IntegrationUserRoles { get; set; } = "admin";

    /// <summary>ServiceNow's <c>glide.invalid_query.returns_no_rows</c>: a query naming an unknown field matches nothing instead of ignoring the term.</summary>
    public bool InvalidQueryReturnsNoRows { get; set; }
}
