using System.Security.Cryptography;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.CatalogTickets;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.PasswordReset;

/// <summary>
/// Carries out a password reset asked for in the ServiceNow catalog. The ticket is read back; the person is resolved
/// to their Entra user; privileged, on-premises and unentitled requests are refused with a work note. Otherwise a
/// Temporary Access Pass (or a new password to change at next sign-in) is created and e-mailed, and only e-mailed:
/// the secret lives in a local variable between Graph's answer and the mail, and is written nowhere else.
/// </summary>
public sealed class PasswordResetHandler(
    CatalogTicketStore tickets,
    IDirectory directory,
    IUserPrivileges privileges,
    IMailSender mail,
    IOptions<PasswordResetOptions> options,
    ILogger<PasswordResetHandler> logger) : IMessageHandler
{
    public string Queue => QueueNames.PasswordResets;

    public Task HandleAsync(ChangeMessage message, CancellationToken cancellationToken) =>
        tickets.FulfilAsync(message, [], "password reset", "EntraSnow did not reset the password",
            ticket => CarryOutAsync(ticket, message, cancellationToken), cancellationToken);

    /// <returns>The work note saying what was done and where the secret went.</returns>
    private async Task<string> CarryOutAsync(CatalogTicket ticket, ChangeMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (string.IsNullOrEmpty(settings.SendFrom))
        {
            throw new RequestRefusedException("no mailbox is configured to deliver the new credential (PasswordReset:SendFrom).");
        }

        var user = await tickets.ResolveUserAsync(ticket.RequestedFor, cancellationToken)
            ?? throw new RequestRefusedException("the person it is for has no matching Entra ID account.");
        await CheckEntitledAsync(ticket, user, settings, cancellationToken);
        await CheckSafeToResetAsync(user, settings, cancellationToken);
        var (recipient, whose) = await RecipientAsync(user, settings, cancellationToken);

        var name = user.DisplayName ?? user.UserPrincipalName ?? user.Id;
        string what, label, secret;
        if (settings.Method == ResetMethod.TemporaryAccessPass)
        {
            var pass = await directory.CreateTemporaryAccessPassAsync(user.Id, settings.TemporaryAccessPassLifetimeMinutes, settings.TemporaryAccessPassUsableOnce, cancellationToken);
            (what, label, secret) = ($"A Temporary Access Pass ({pass.LifetimeInMinutes} minutes{(pass.IsUsableOnce ? ", one use" : string.Empty)})", "Temporary Access Pass", pass.Pass);
        }
        else
        {
            secret = NewPassword();
            await directory.ResetPasswordAsync(user.Id, secret, forceChangeAtNextSignIn: true, cancellationToken);
            (what, label) = ("A new password (to be changed at next sign-in)", "Password");
        }

        await mail.SendAsync(new MailMessage(settings.SendFrom, recipient, $"{label} for {name} ({ticket.Number})",
            $"{what} was created for {name} ({user.UserPrincipalName}) as asked in {ticket.Number}.\n\n{label}: {secret}\n\n" +
            $"Give it to {name} in person or by phone."), cancellationToken);

        var revoked = string.Empty;
        if (settings.RevokeSessions)
        {
            await directory.RevokeSignInSessionsAsync(user.Id, cancellationToken);
            revoked = " Existing sign-in sessions were revoked.";
        }

        logger.LogInformation("Reset {UserId} for {Number} by {Method}, sent to {Whose} {CorrelationId}", user.Id, ticket.Number, settings.Method, whose, message.CorrelationId);
        return $"EntraSnow: {what} was created for {name} and e-mailed to {recipient} ({whose}). It is not recorded anywhere else.{revoked}";
    }

    private async Task CheckEntitledAsync(CatalogTicket ticket, DirectoryUser user, PasswordResetOptions settings, CancellationToken cancellationToken)
    {
        if (string.Equals(ticket.RequestedBy, ticket.RequestedFor, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (user.ManagerId is { } managerId && await tickets.ResolveUserAsync(ticket.RequestedBy, cancellationToken) is { } requester
            && string.Equals(requester.Id, managerId, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (settings.EntitledRoles.Count > 0 && await tickets.HasAnyRoleAsync(ticket.RequestedBy, settings.EntitledRoles, cancellationToken))
        {
            return;
        }

        throw new RequestRefusedException("the requester is not entitled: only the user, their manager in Entra ID, or a holder of an entitled ServiceNow role may ask.");
    }

    private async Task CheckSafeToResetAsync(DirectoryUser user, PasswordResetOptions settings, CancellationToken cancellationToken)
    {
        var facts = await privileges.GetAsync(user.Id, cancellationToken)
            ?? throw new RequestRefusedException("the Entra ID account no longer exists.");
        if (facts.DirectoryRoleIds.Count > 0)
        {
            throw new RequestRefusedException("the account holds a directory role; privileged accounts are reset by an administrator, not from the catalog.");
        }

        if (facts.SyncedFromOnPremises)
        {
            throw new RequestRefusedException("the account is synchronised from on-premises Active Directory; its password is reset there.");
        }

        if (settings.ProtectedGroupIds.Count > 0)
        {
            var groups = await directory.GetUserGroupIdsAsync(user.Id, cancellationToken);
            if (groups.Intersect(settings.ProtectedGroupIds, StringComparer.OrdinalIgnoreCase).Any())
            {
                throw new RequestRefusedException("the account is in a protected group; it is reset by an administrator, not from the catalog.");
            }
        }
    }

    private async Task<(string Address, string Whose)> RecipientAsync(DirectoryUser user, PasswordResetOptions settings, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(settings.SendTo))
        {
            return (settings.SendTo, "the configured delivery address");
        }

        if (user.ManagerId is { } managerId && await directory.GetUserAsync(managerId, cancellationToken) is { } manager
            && (manager.Mail ?? manager.UserPrincipalName) is { Length: > 0 } address)
        {
            return (address, "the user's manager");
        }

        throw new RequestRefusedException("the user has no manager in Entra ID to receive the credential, and no delivery address is configured (PasswordReset:SendTo).");
    }

    /// <summary>16 characters from every class Entra's complexity rule counts, from a cryptographic source.</summary>
    internal static string NewPassword()
    {
        const string upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", lower = "abcdefghijkmnopqrstuvwxyz", digits = "23456789", symbols = "!#%+-=?@";
        var chars = RandomNumberGenerator.GetItems<char>(upper + lower + digits + symbols, 12).ToList();
        chars.Add(RandomNumberGenerator.GetItems<char>(upper, 1)[0]);
        chars.Add(RandomNumberGenerator.GetItems<char>(lower, 1)[0]);
        chars.Add(RandomNumberGenerator.GetItems<char>(digits, 1)[0]);
        chars.Add(RandomNumberGenerator.GetItems<char>(symbols, 1)[0]);
        var array = chars.ToArray();
        RandomNumberGenerator.Shuffle(array.AsSpan());
        return new string(array);
    }
}
