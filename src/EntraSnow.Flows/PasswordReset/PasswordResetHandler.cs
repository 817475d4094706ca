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
        tickets.FulfilAsync(message, [], "password reset", "EntraSnow did not complete the password reset",
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
        TemporaryAccessPass? pass = null;
        if (settings.Method == ResetMethod.TemporaryAccessPass)
        {
            pass = await directory.CreateTemporaryAccessPassAsync(user.Id, settings.TemporaryAccessPassLifetimeMinutes, settings.TemporaryAccessPassUsableOnce, cancellationToken);
            (what, label, secret) = ($"A Temporary Access Pass ({pass.LifetimeInMinutes} minutes{(pass.IsUsableOnce ? ", one use" : string.Empty)})", "Temporary Access Pass", pass.Pass);
        }
        else
        {
            secret = NewPassword();
            await directory.ResetPasswordAsync(user.Id, secret, forceChangeAtNextSignIn: true, cancellationToken);
            (what, label) = ("A new password (to be changed at next sign-in)", "Password");
        }

        try
        {
            await mail.SendAsync(new MailMessage(settings.SendFrom, recipient, $"{label} for {name} ({ticket.Number})",
                $"{what} was created for {name} ({user.UserPrincipalName}) as asked in {ticket.Number}.\n\n{label}: {secret}\n\n" +
                $"Give it to {name} in person or by phone."), cancellationToken);
        }
        catch (Exception ex)
        {
            // Not retried later: the connector already waited out throttling and 5xx inside the call, and a later attempt
            // would need the secret kept somewhere until then (it never is) or a new one made each time. So nothing
            // usable is left behind undelivered: the pass is deleted, and the ticket says delivery failed (the requester
            // asks again). A host shutting down (cancellation) deletes it too; the redelivered request makes a new one.
            var undelivered = await UndeliveredAsync(user, pass, recipient, ex, message);
            if (ex is OperationCanceledException)
            {
                throw;
            }

            throw undelivered;
        }

        var revoked = string.Empty;
        if (settings.RevokeSessions)
        {
            await directory.RevokeSignInSessionsAsync(user.Id, cancellationToken);
            revoked = " Existing sign-in sessions were revoked.";
        }

        logger.LogInformation("Reset {UserId} for {Number} by {Method}, sent to {Whose} {CorrelationId}", user.Id, ticket.Number, settings.Method, whose, message.CorrelationId);
        return $"EntraSnow: {what} was created for {name} and e-mailed to {recipient} ({whose}). It is not recorded anywhere else.{revoked}";
    }

    /// <summary>Deletes an undelivered pass and says why the reset did not complete; never mentions the secret.</summary>
    private async Task<RequestRefusedException> UndeliveredAsync(DirectoryUser user, TemporaryAccessPass? pass, string recipient, Exception failure, ChangeMessage message)
    {
        var why = failure switch
        {
            GraphRequestException refused => $"Graph refused the e-mail ({refused.StatusCode} {refused.ErrorCode})",
            GraphUnavailableException => "Graph could not send the e-mail (unavailable or throttling)",
            OperationCanceledException => "EntraSnow was stopping",
            _ => $"the e-mail failed ({failure.GetType().Name})",
        };
        logger.LogError("The new credential for {UserId} could not be e-mailed ({Why}: {Failure}) {CorrelationId}", user.Id, why, failure.Message, message.CorrelationId);
        if (pass is null)
        {
            return new RequestRefusedException($"the new password was set but could not be e-mailed to {recipient}: {why}. Nobody has it: ask again for a reset.");
        }

        try
        {
            // Even when the request is being cancelled: the pass must not outlive its failed delivery.
            using var deleting = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await directory.DeleteTemporaryAccessPassAsync(user.Id, pass.Id, deleting.Token);
            logger.LogInformation("Deleted the undelivered Temporary Access Pass {MethodId} of {UserId} {CorrelationId}", pass.Id, user.Id, message.CorrelationId);
            return new RequestRefusedException($"the Temporary Access Pass could not be e-mailed to {recipient}: {why}. It was deleted at once, so none is in effect: ask again.");
        }
        catch (Exception ex)
        {
            logger.LogError("Could not delete the undelivered Temporary Access Pass {MethodId} of {UserId} ({Failure}) {CorrelationId}", pass.Id, user.Id, ex.Message, message.CorrelationId);
            return new RequestRefusedException($"the Temporary Access Pass could not be e-mailed to {recipient}: {why}, and could not be deleted either: " +
                $"an administrator should delete it (Entra admin center, the user's authentication methods; method id {pass.Id}). Nobody has it, and it expires after {pass.LifetimeInMinutes} minutes.");
        }
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
