namespace EntraSnow.Connectors.ServiceNow;

/// <summary>sysparm_display_value: raw values, display values, or both.</summary>
public enum ServiceNowDisplayValue
{
    False,
    True,
    All,
}

/// <summary>How records are read: which fields (sysparm_fields), display values, reference links.</summary>
public sealed record ServiceNowReadOptions
{
    public static ServiceNowReadOptions Default { get; } = new();

    public IReadOnlyList<string>? Fields { get; init; }

    public ServiceNowDisplayValue DisplayValue { get; init; } = ServiceNowDisplayValue.False;

    /// <summary>sysparm_exclude_reference_link: references come as a bare sys_id instead of {link, value}.</summary>
    public bool ExcludeReferenceLink { get; init; }
}
