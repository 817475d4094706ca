using Azure;
using Azure.Data.Tables;
using EntraSnow.Flows.Messaging;

namespace EntraSnow.Stores.AzureTables;

/// <summary>
/// Copies held for a paused connector, one row each (partition: the connector; row: the held copy's id), shared by every
/// Functions instance. A row goes <c>held</c> → <c>releasing</c> (a release claimed it) → <c>released</c> (its
/// replacement is sent), and the first delivered copy takes it. Every change is written on the ETag read, so a release
/// and a delivery, or two releases, never both win. A row is deleted once no other copy of it can be delivered.
/// </summary>
public sealed class TableHeldCopies(TableServiceClient service, TimeProvider clock, string tablePrefix = "EntraSnow") : IHeldCopies
{
    private const string Held = "held";
    private const string Releasing = "releasing";
    private const string Released = "released";

    /// <summary>A release claimed longer ago than this is taken as dead (its instance stopped): another may redo it (sending twice is harmless: the first delivered copy takes the row).</summary>
    internal static readonly TimeSpan ReleaseClaimLifetime = TimeSpan.FromMinutes(1);

    private readonly LazyTable _table = new(service, tablePrefix + "HeldMessages");

    public async Task RecordAsync(HeldCopy copy, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(copy.Connector, TableKeys.Escape(copy.Message.MessageId))
        {
            ["Queue"] = copy.Queue,
            ["SequenceNumber"] = copy.SequenceNumber,
            ["Message"] = ChangeMessageJson.Serialize(copy.Message),
            ["State"] = Held,
            ["RecordedAt"] = clock.GetUtcNow(),
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<IReadOnlyList<HeldCopy>> ClaimForReleaseAsync(string connector, int max, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var claimed = new List<HeldCopy>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {connector} and (State eq {Held} or (State eq {Releasing} and ClaimedAt lt {now - ReleaseClaimLifetime}))");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (claimed.Count == max)
            {
                break;
            }

            if (row.GetString("TakenBy") is not null)
            {
                continue; // a copy was delivered and taken: nothing to release
            }

            row["State"] = Releasing;
            row["ClaimedAt"] = now;
            if (await TryWriteAsync(table, row, cancellationToken))
            {
                claimed.Add(new HeldCopy(connector, row.GetString("Queue")!, ChangeMessageJson.Deserialize(row.GetString("Message")!), row.GetInt64("SequenceNumber") ?? 0));
            }
        }

        return claimed;
    }

    public async Task ReleasedAsync(HeldCopy copy, bool cancelled, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var read = await table.GetEntityIfExistsAsync<TableEntity>(copy.Connector, TableKeys.Escape(copy.Message.MessageId), cancellationToken: cancellationToken);
        if (read.HasValue && read.Value!.GetString("State") == Releasing && read.Value.GetString("TakenBy") is null)
        {
            var row = read.Value;
            row["State"] = Released;
            row["Cancelled"] = cancelled;
            // Taken meanwhile by the held copy (its activation raced the cancel): the row is the delivery's now.
            await TryWriteAsync(table, row, cancellationToken);
        }
    }

    public async Task<bool> TakeAsync(string connector, string holdId, string delivery, bool replacement, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var key = TableKeys.Escape(holdId);
        while (true)
        {
            var read = await table.GetEntityIfExistsAsync<TableEntity>(connector, key, cancellationToken: cancellationToken);
            if (!read.HasValue)
            {
                // Never recorded, or forgotten once no other copy could come: this is the only copy.
                return true;
            }

            var row = read.Value!;
            var takenBy = row.GetString("TakenBy");
            if (takenBy == delivery)
            {
                return true; // this copy again: its earlier delivery did not finish
            }

            if (takenBy is not null)
            {
                // The other copy was processed: this one is not, and nothing of the pair can come any more.
                await DeleteAsync(table, row, cancellationToken);
                return false;
            }

            // No release started (none can now: it needs the row held), or the held copy was cancelled and this is its
            // replacement: no other copy can come, so the row goes. Otherwise this copy takes it for the other to see.
            var onlyCopyLeft = row.GetString("State") == Held
                || (row.GetString("State") == Released && row.GetBoolean("Cancelled") == true && replacement);
            if (onlyCopyLeft ? await DeleteAsync(table, row, cancellationToken) : await TakeRowAsync(table, row, delivery, cancellationToken))
            {
                return true;
            }

            // A release or the other copy wrote the row meanwhile: decide again on what it wrote.
        }
    }

    public async Task<int> ForgetOlderThanAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var forgotten = 0;
        // Every connector's rows: the table holds only copies waiting out a pause, so it stays small.
        await foreach (var row in table.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey", "RecordedAt"], cancellationToken: cancellationToken))
        {
            if (row.GetDateTimeOffset("RecordedAt") is not { } recordedAt)
            {
                // Recorded before rows carried their time: aged from now, so it goes one retention period later.
                try
                {
                    await table.UpdateEntityAsync(new TableEntity(row.PartitionKey, row.RowKey) { ["RecordedAt"] = clock.GetUtcNow() }, row.ETag, TableUpdateMode.Merge, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                {
                    // Taken, released or held again meanwhile: whatever wrote it decides its fate.
                }
            }
            else if (recordedAt < before && await DeleteAsync(table, row, cancellationToken))
            {
                forgotten++;
            }
        }

        return forgotten;
    }

    private static Task<bool> TakeRowAsync(TableClient table, TableEntity row, string delivery, CancellationToken cancellationToken)
    {
        row["TakenBy"] = delivery;
        return TryWriteAsync(table, row, cancellationToken);
    }

    private static async Task<bool> TryWriteAsync(TableClient table, TableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    private static async Task<bool> DeleteAsync(TableClient table, TableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }
}
