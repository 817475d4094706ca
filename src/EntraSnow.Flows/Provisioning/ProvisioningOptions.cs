using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Flows.Provisioning;

/// <summary>What to do when a reference value (a department, a location, a manager) has no record in ServiceNow.</summary>
public enum MissingReferencePolicy
{
    /// <summary>Fail the user with the reason; the message is dead-lettered (Entra calls this InvalidLookupReference).</summary>
    Fail,

    /// <summary>Write the user with the field empty.</summary>
    LeaveEmpty,

    /// <summary>Create the referenced record (e.g. a cmn_department named after the value).</summary>
    Create,

    /// <summary>Write the user without it now and try again later (managers not yet provisioned).</summary>
    ResolveLater,
}

/// <summary>
/// One sys_user field and where its value comes from. Every property is optional in configuration: a configured
/// entry overrides only what it sets on the default of the same target field; <c>Source = ""</c> removes a default.
/// </summary>
public sealed class AttributeMapping
{
    /// <summary>The Graph attribute (e.g. <c>department</c>, <c>businessPhones</c> takes the first phone, <c>manager</c>).</summary>
    public string? Source { get; set; }

    /// <summary>For reference fields: the table the value is looked up in (cmn_department, cmn_location, sys_user).</summary>
    public string? ReferenceTable { get; set; }

    /// <summary>For reference fields: the field of <see cref="ReferenceTable"/> that holds the value (name).</summary>
    public string? ReferenceField { get; set; }

    public MissingReferencePolicy? OnMissingReference { get; set; }

    public bool IsReference => !string.IsNullOrEmpty(ReferenceTable);
}

/// <summary>An attribute rule of the scope: the Graph attribute must equal the value (case-insensitive).</summary>
public sealed class ScopeRule
{
    [Required]
    public string Attribute { get; set; } = string.Empty;

    /// <summary>The value the attribute must equal.</summary>
    public string Value { get; set; } = string.Empty;
}

/// <summary>Optional ServiceNow records raised when a user is first created or deactivated.</summary>
public sealed class LifecycleRecordOptions
{
    public bool Enabled { get; set; }

    /// <summary>sc_req_item for onboarding, sc_task for offboarding.</summary>
    public string Table { get; set; } = string.Empty;

    /// <summary>Assignment group sys_id (optional).</summary>
    public string? AssignmentGroup { get; set; }
}

/// <summary>Settings under <c>Provisioning</c>. Validated at start-up.</summary>
public sealed class ProvisioningOptions
{
    public const string Section = "Provisioning";

    public const string DefaultObjectIdField = "u_entra_object_id";

    /// <summary>
    /// The sys_user (and sys_user_group) field that stores the Entra object id. Always written, so deprovisioning
    /// finds a record even after the user is gone from Graph, and a renamed UPN never creates a duplicate.
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_]+$")]
    public string ObjectIdField { get; set; } = DefaultObjectIdField;

    /// <summary>The Graph attribute users are matched on (Entra's "matching attribute"); default the object id.</summary>
    [Required]
    public string MatchingAttribute { get; set; } = "id";

    /// <summary>The sys_user field holding the matching value; default <see cref="ObjectIdField"/>.</summary>
    [RegularExpression("^[A-Za-z0-9_]*$")]
    public string? MatchingField { get; set; }

    /// <summary>Overrides and additions to the default mappings, keyed by sys_user field.</summary>
    public Dictionary<string, AttributeMapping> Mappings { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Assignment scope: when non-empty, only direct members of one of these groups are provisioned.</summary>
    public List<string> ScopeGroupIds { get; set; } = [];

    /// <summary>Attribute scope: every rule must hold (e.g. userType equals Member).</summary>
    public List<ScopeRule> ScopeRules { get; set; } = [];

    /// <summary>Groups in scope for sys_user_group; empty means every group.</summary>
    public List<string> GroupIds { get; set; } = [];

    public bool ProvisionGroups { get; set; } = true;

    /// <summary>
    /// How many groups a delta run writes at once (their memberships are independent; each group's are written one
    /// after another). The ServiceNow budget's default concurrency, so a full sync's memberships keep the instance busy.
    /// </summary>
    [Range(1, 64)]
    public int GroupParallelism { get; set; } = 16;

    /// <summary>How long to wait before trying a late reference (a manager not yet provisioned) again.</summary>
    [TimeSpanRange("00:00:00", "1.00:00:00")]
    public TimeSpan FollowUpDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Follow-ups for a manager not yet provisioned before giving up until the next full sync.</summary>
    [Range(0, 50)]
    public int FollowUpAttempts { get; set; } = 5;

    /// <summary>Joining users to the sys_user records an instance already has (matched on <see cref="AdoptionOptions.MatchOn"/>).</summary>
    public AdoptionOptions Adoption { get; set; } = new();

    public LifecycleRecordOptions Onboarding { get; set; } = new() { Table = "sc_req_item" };

    public LifecycleRecordOptions Offboarding { get; set; } = new() { Table = "sc_task" };

    /// <summary>How often the full sync timer runs (local host interval; the Functions app has its own CRON).</summary>
    [TimeSpanRange("00:01:00", "30.00:00:00")]
    public TimeSpan FullSyncInterval { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a full sync waits for its queued work to drain before it reports.</summary>
    [TimeSpanRange("00:00:01", "1.00:00:00")]
    public TimeSpan FullSyncMaxWait { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// How many users of Graph's delta pages a full sync compares at once with one sys_user query (an IN list of object
    /// ids in the URL: 150 ids keep it near 6 KB). Unchanged users then cost no call of their own.
    /// </summary>
    [Range(1, 150)]
    public int FullSyncChunkSize { get; set; } = 150;

    /// <summary>How often a waiting full sync re-reads its progress.</summary>
    [TimeSpanRange("00:00:00.010", "00:10:00")]
    public TimeSpan FullSyncPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The tenant put on messages the full sync queues; defaults to <c>Graph:TenantId</c>.</summary>
    public string TenantId { get; set; } = string.Empty;

    public string EffectiveMatchingField => string.IsNullOrEmpty(MatchingField) ? ObjectIdField : MatchingField;

    /// <summary>
    /// The Entra ServiceNow connector's mappings, keyed by sys_user field. Entra fails a user whose department is
    /// missing; here a missing department is created (Entra is the source of truth for it) and a missing location is
    /// left empty (office strings are free text), each noted in the provisioning log. Set <c>OnMissingReference</c> to
    /// <c>Fail</c> for Entra's behaviour: the user is then dead-lettered with the reason.
    /// </summary>
    public static IReadOnlyDictionary<string, AttributeMapping> DefaultMappings(string objectIdField) =>
        new Dictionary<string, AttributeMapping>(StringComparer.OrdinalIgnoreCase)
        {
            ["user_name"] = new() { Source = "userPrincipalName" },
            ["email"] = new() { Source = "mail" },
            ["first_name"] = new() { Source = "givenName" },
            ["last_name"] = new() { Source = "surname" },
            ["title"] = new() { Source = "jobTitle" },
            ["department"] = new() { Source = "department", ReferenceTable = "cmn_department", ReferenceField = "name", OnMissingReference = MissingReferencePolicy.Create },
            ["location"] = new() { Source = "officeLocation", ReferenceTable = "cmn_location", ReferenceField = "name", OnMissingReference = MissingReferencePolicy.LeaveEmpty },
            ["phone"] = new() { Source = "businessPhones" },
            ["mobile_phone"] = new() { Source = "mobilePhone" },
            ["employee_number"] = new() { Source = "employeeId" },
            ["manager"] = new() { Source = "manager", ReferenceTable = "sys_user", ReferenceField = objectIdField, OnMissingReference = MissingReferencePolicy.ResolveLater },
        };

    /// <summary>The defaults with the configured overrides applied; removed entries (empty source) left out.</summary>
    public IReadOnlyDictionary<string, AttributeMapping> EffectiveMappings()
    {
        var result = new Dictionary<string, AttributeMapping>(StringComparer.OrdinalIgnoreCase);
        foreach (var (field, mapping) in DefaultMappings(ObjectIdField))
        {
            result[field] = mapping;
        }

        foreach (var (field, configured) in Mappings)
        {
            result.TryGetValue(field, out var baseline);
            result[field] = new AttributeMapping
            {
                Source = configured.Source ?? baseline?.Source,
                ReferenceTable = configured.ReferenceTable ?? baseline?.ReferenceTable,
                ReferenceField = configured.ReferenceField ?? baseline?.ReferenceField,
                OnMissingReference = configured.OnMissingReference ?? baseline?.OnMissingReference,
            };
        }

        return result.Where(kv => !string.IsNullOrEmpty(kv.Value.Source))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
    }
}
