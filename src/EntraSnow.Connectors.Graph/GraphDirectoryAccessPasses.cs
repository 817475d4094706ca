namespace EntraSnow.Connectors.Graph;

/// <summary>Taking back a Temporary Access Pass that could not be delivered.</summary>
internal sealed partial class GraphDirectory
{
    public async Task DeleteTemporaryAccessPassAsync(string userId, string methodId, CancellationToken cancellationToken = default)
    {
        try
        {
            await GraphErrors.RunAsync("DELETE temporaryAccessPassMethods",
                () => client.Users[userId].Authentication.TemporaryAccessPassMethods[methodId].DeleteAsync(cancellationToken: cancellationToken), cancellationToken);
        }
        catch (GraphRequestException ex) when (ex.IsNotFound())
        {
            // Already deleted (or expired and cleaned up): what was wanted.
        }
    }
}
