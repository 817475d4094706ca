namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>How many reference records a seed run added (existing ones, matched by name, are left alone).</summary>
public sealed record ServiceNowSeedResult(int Departments, int Locations, int Groups);

/// <summary>Reference data the provisioning flows look up: departments, locations and assignment groups.</summary>
public static class ServiceNowSeed
{
    public static IReadOnlyList<string> Departments { get; } =
        ["Retail", "Sales", "Marketing", "Engineering", "Finance", "Human Resources", "IT", "Legal", "Operations", "Customer Support"];

    public static IReadOnlyList<string> Locations { get; } =
        ["Redmond", "Seattle", "New York", "London", "Dublin", "Munich", "Paris", "Sydney", "Tokyo", "Remote"];

    public static IReadOnlyList<string> Groups { get; } =
        ["Service Desk", "Identity and Access Management", "Security Operations", "Network", "Hardware", "Software", "Change Advisory Board"];

    /// <summary>Inserts the departments, locations and groups that do not exist yet. Safe to run repeatedly.</summary>
    public static ServiceNowSeedResult SeedReferenceData(ServiceNowEmulatorStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var departments = SeedNames(store, "cmn_department", Departments, name => new Dictionary<string, string>
        {
            ["name"] = name,
            ["id"] = name.ToUpperInvariant().Replace(' ', '-'),
            ["description"] = $"{name} department",
        });
        var locations = SeedNames(store, "cmn_location", Locations, name => new Dictionary<string, string>
        {
            ["name"] = name,
            ["city"] = name == "Remote" ? string.Empty : name,
        });
        var groups = SeedNames(store, "sys_user_group", Groups, name => new Dictionary<string, string>
        {
            ["name"] = name,
            ["description"] = $"{name} (sandbox)",
            ["type"] = "itil",
        });
        return new ServiceNowSeedResult(departments, locations, groups);
    }

    /// <summary>The sandbox's <c>seed</c> command: seeds the SQLite file at <paramref name="databasePath"/> and reports.</summary>
    public static int RunSeedCommand(string databasePath, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var store = new ServiceNowEmulatorStore(databasePath);
        var result = SeedReferenceData(store);
        output.WriteLine($"ServiceNow sandbox seeded ({databasePath}): {result.Departments} departments, {result.Locations} locations, {result.Groups} groups added.");
        return 0;
    }

    private static int SeedNames(ServiceNowEmulatorStore store, string table, IReadOnlyList<string> names, Func<string, Dictionary<string, string>> record)
    {
        var added = 0;
        foreach (var name in names)
        {
            if (store.Query(table, "name=" + name.Replace("^", "^^", StringComparison.Ordinal)).Count == 0)
            {
                store.Insert(table, record(name));
                added++;
            }
        }

        return added;
    }
}
