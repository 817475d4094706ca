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

    /// <summary>
    /// sys_user_group fields tried in order for a group no record carries the object id of: <c>name</c> (display name),
    /// <c>email</c> (mail). Empty turns group adoption off.
    /// </summary>
    public string GroupMatchOn { get; set; } = "name";

    /// <summary>A task raised for a conflict (two records for one user, or a record linked to another object).</summary>
    public LifecycleRecordOptions ConflictTask { get; set; } = new() { Table = "sc_task" };

    public IReadOnlyList<string> MatchFields => Split(MatchOn);

    public IReadOnlyList<string> GroupMatchFields => Split(GroupMatchOn);

    private static string[] Split(string fields) => fields.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
