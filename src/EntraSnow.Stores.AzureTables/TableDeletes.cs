using Azure;
using Azure.Data.Tables;

namespace EntraSnow.Stores.AzureTables;

/// <summary>Deletes the rows a filter selects, in transactions of up to 100 rows of one partition (Table storage's limit).</summary>
internal static class TableDeletes
{
    internal const int MaxPerTransaction = 100;

    public static async Task<int> DeleteWhereAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        var deleted = 0;
        var batch = new List<TableTransactionAction>(MaxPerTransaction);
        string? partition = null;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (batch.Count == MaxPerTransaction || (partition is not null && row.PartitionKey != partition))
            {
                deleted += await SubmitAsync(table, batch, cancellationToken);
            }

            partition = row.PartitionKey;
            batch.Add(new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All));
        }

        return deleted + await SubmitAsync(table, batch, cancellationToken);
    }

    private static async Task<int> SubmitAsync(TableClient table, List<TableTransactionAction> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        try
        {
            await table.SubmitTransactionAsync(batch, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 404)
        {
            // A row deleted meanwhile (another instance's run): delete the rest one by one.
            foreach (var action in batch)
            {
                try
                {
                    await table.DeleteEntityAsync(action.Entity.PartitionKey, action.Entity.RowKey, ETag.All, cancellationToken);
                }
                catch (RequestFailedException notFound) when (notFound.Status == 404)
                {
                }
            }
        }

        var count = batch.Count;
        batch.Clear();
        return count;
    }
}
