namespace EntraSnow.Flows.Provisioning;

/// <summary>
/// Settings under <c>Provisioning:Adoption</c>: how a user with no sys_user carrying their object id is joined to a
/// record the instance already has (made by hand, or by the Entra provisioning service), instead of getting a duplicate.
/// </summary>
public sealed class AdoptionOptions
{
    /// <summary>
    /// sys_user fields tried in order, comma-separated, each compared with the Entra value its mapping writes there
    /// (<c>user_name</c> = UPN, <c>email</c> = mail). Empty turns adoption off: such users are created.
    /// </summary>
    public string MatchOn { get; set; } = "user_name,email";

    /// <summary>A task raised for a conflict (two records for one user, or a record linked to another object).</summary>
    public LifecycleRecordOptions ConflictTask { get; set; } = new() { Table = "sc_task" };

    public IReadOnlyList<string> MatchFields =>
        MatchOn.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
