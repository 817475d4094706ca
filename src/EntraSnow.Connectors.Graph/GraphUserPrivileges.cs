using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Users.Item.SendMail;

namespace EntraSnow.Connectors.Graph;

/// <summary><see cref="IUserPrivileges"/> and <see cref="IMailSender"/> over the Graph SDK.</summary>
internal sealed class GraphUserPrivileges(GraphServiceClient client) : IUserPrivileges, IMailSender
{
    public async Task<UserPrivileges?> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        User? user;
        try
        {
            user = await GraphErrors.RunAsync("GET user onPremisesSyncEnabled", () => client.Users[userId].GetAsync(
                c => c.QueryParameters.Select = ["id", "onPremisesSyncEnabled"], cancellationToken), cancellationToken);
        }
        catch (GraphRequestException ex) when (ex.IsNotFound())
        {
            return null;
        }

        if (user?.Id is null)
        {
            return null;
        }

        var roles = new List<string>();
        var page = await GraphErrors.RunAsync("GET roleAssignments", () => client.RoleManagement.Directory.RoleAssignments.GetAsync(
            c => c.QueryParameters.Filter = $"principalId eq '{user.Id.Replace("'", "''", StringComparison.Ordinal)}'", cancellationToken), cancellationToken);
        while (page is not null)
        {
            roles.AddRange(page.Value?.Select(a => a.RoleDefinitionId).OfType<string>() ?? []);
            if (page.OdataNextLink is not { } next)
            {
                break;
            }

            page = await GraphErrors.RunAsync("GET roleAssignments", () => client.RoleManagement.Directory.RoleAssignments.WithUrl(next).GetAsync(cancellationToken: cancellationToken), cancellationToken);
        }

        return new UserPrivileges(user.OnPremisesSyncEnabled == true, roles);
    }

    public Task SendAsync(MailMessage message, CancellationToken cancellationToken = default) =>
        GraphErrors.RunAsync("POST sendMail", () => client.Users[message.FromMailbox].SendMail.PostAsync(new SendMailPostRequestBody
        {
            Message = new Message
            {
                Subject = message.Subject,
                Body = new ItemBody { ContentType = BodyType.Text, Content = message.Body },
                ToRecipients = [new Recipient { EmailAddress = new EmailAddress { Address = message.To } }],
            },
            // A message carrying a pass is not kept in the sender's mailbox.
            SaveToSentItems = false,
        }, cancellationToken: cancellationToken), cancellationToken);
}
