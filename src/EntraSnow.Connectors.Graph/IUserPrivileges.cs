namespace EntraSnow.Connectors.Graph;

/// <summary>What makes a user's credentials unsafe for EntraSnow to reset.</summary>
/// <param name="SyncedFromOnPremises">onPremisesSyncEnabled: the cloud cannot set such a user's password.</param>
/// <param name="DirectoryRoleIds">Role definition ids of the user's directory role assignments (any at all makes the user privileged).</param>
public sealed record UserPrivileges(bool SyncedFromOnPremises, IReadOnlyList<string> DirectoryRoleIds);

/// <summary>Reads <see cref="UserPrivileges"/> from Graph (users and roleManagement/directory/roleAssignments).</summary>
public interface IUserPrivileges
{
    /// <summary>null when the user does not exist.</summary>
    Task<UserPrivileges?> GetAsync(string userId, CancellationToken cancellationToken = default);
}

/// <summary>One plain-text e-mail.</summary>
public sealed record MailMessage(string FromMailbox, string To, string Subject, string Body);

/// <summary>
/// Sends e-mail as a mailbox through Graph <c>sendMail</c> (Mail.Send, application). The body may hold a secret: it
/// is never logged, never kept in Sent Items, and no failure message contains it.
/// </summary>
public interface IMailSender
{
    Task SendAsync(MailMessage message, CancellationToken cancellationToken = default);
}
