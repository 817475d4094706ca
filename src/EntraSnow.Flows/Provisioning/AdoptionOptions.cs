namespace EntraSnow.Flows.Provisioning;

/// <summary>
/// What happens when a new Entra user's UPN (or e-mail) is on an inactive sys_user linked to another object that Entra
/// no longer has: a rehire given a new account, or someone new given a former colleague's name.
/// </summary>
public enum RehirePolicy
{
    /// <summary>
    /// The old record keeps its history under a renamed user_name (<c>{name}.former-{old id}</c>) and the new user gets a
    /// record of their own, so single sign-on on user_name works for them at once and inherits nothing.
    /// </summary>
    New,

    /// <summary>The old record is linked to the new object and reactivated, keeping its history (a true rehire).</summary>
    Relink,

    /// <summary>Nothing is written; a task asks a person to decide.</summary>
    Fail,
}

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

    /// <summary>A new user whose name is on an inactive record of a deleted Entra object: see <see cref="RehirePolicy"/>.</summary>
    public RehirePolicy Rehire { get; set; } = RehirePolicy.New;

    /// <summary>A task raised for a conflict (two records for one user, or a record linked to another object).</summary>
    public LifecycleRecordOptions ConflictTask { get; set; } = new() { Table = "sc_task" };

    public IReadOnlyList<string> MatchFields => Split(MatchOn);

    public IReadOnlyList<string> GroupMatchFields => Split(GroupMatchOn);

    private static string[] Split(string fields) => fields.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
