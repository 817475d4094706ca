using System.Globalization;
using Azure;
using Azure.Data.Tables;
using EntraSnow.Flows.ServiceNowWebhooks;

namespace EntraSnow.Stores.AzureTables;

/// <summary>
/// Webhook request ids already accepted, one row each. The partition is the UTC day the request was signed: a replay
/// carries the same signed timestamp, so it lands on the same row and its insert conflicts (atomic, no read first).
/// Days older than the window hold nothing that protects, so whole partitions can be dropped.
/// </summary>
public sealed class TableWebhookReplayStore(TableServiceClient service, string tablePrefix = "EntraSnow") : IWebhookReplayStore
{
    private readonly LazyTable _table = new(service, tablePrefix + "WebhookRequests");

    public async Task<bool> TryRememberAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(new TableEntity(Day(signedAt), TableKeys.Escape(requestId)) { ["SignedAt"] = signedAt }, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public async Task ForgetAsync(string requestId, DateTimeOffset signedAt, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        try
        {
            await table.DeleteEntityAsync(Day(signedAt), TableKeys.Escape(requestId), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone.
        }
    }

    public async Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        // Signed before this, a request's timestamp is outside the window: its signature alone refuses it.
        var expired = now - ServiceNowWebhookOptions.Window;
        return await TableDeletes.DeleteWhereAsync(await _table.GetAsync(cancellationToken),
            TableClient.CreateQueryFilter($"PartitionKey le {Day(expired)} and SignedAt lt {expired}"), cancellationToken);
    }

    private static string Day(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
