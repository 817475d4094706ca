using Azure;
using Azure.Data.Tables;
using EntraSnow.Flows.Messaging;

namespace EntraSnow.Stores.AzureTables;

/// <summary>
/// Paused connectors shared by every Functions instance: one row per connector. Each change reads the row and writes it
/// back on its ETag, so two instances pausing at once join their queues, and only one of them takes a due probe.
/// </summary>
public sealed class TableConnectorPauses(TableServiceClient service, string tablePrefix = "EntraSnow") : ISharedConnectorPauses
{
    private const string Partition = "pause";

    /// <summary>Tries of a read-and-write that another instance's write keeps interrupting (each is one round trip).</summary>
    private const int MaxTries = 8;

    private readonly LazyTable _table = new(service, tablePrefix + "ConnectorPauses");

    public async Task<IReadOnlyList<ConnectorPause>> ListAsync(CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var pauses = new List<ConnectorPause>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: cancellationToken))
        {
            pauses.Add(ToPause(row));
        }

        return pauses;
    }

    public Task SaveAsync(ConnectorPause pause, CancellationToken cancellationToken = default) =>
        ChangeAsync(pause.Connector, stored =>
        {
            if (stored is null)
            {
                return ToRow(pause);
            }

            var known = ToPause(stored);
            return ToRow(new ConnectorPause(pause.Connector, pause.Reason, Min(known.Since, pause.Since),
                [.. known.Queues.Union(pause.Queues, StringComparer.Ordinal).Order(StringComparer.Ordinal)], Max(known.NextProbe, pause.NextProbe)));
        }, cancellationToken);

    public async Task<DateTimeOffset?> TakeProbeAsync(string connector, DateTimeOffset now, DateTimeOffset nextProbe, CancellationToken cancellationToken = default)
    {
        DateTimeOffset? takenElsewhere = null;
        await ChangeAsync(connector, stored =>
        {
            if (stored is null)
            {
                takenElsewhere = null;
                return null;
            }

            var known = ToPause(stored);
            if (known.NextProbe > now)
            {
                takenElsewhere = known.NextProbe;
                return null;
            }

            takenElsewhere = null;
            stored["NextProbe"] = nextProbe;
            return stored;
        }, cancellationToken);
        return takenElsewhere;
    }

    public async Task LiftAsync(string connector, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        try
        {
            await table.DeleteEntityAsync(Partition, TableKeys.Escape(connector), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Lifted already (another instance's probe succeeded too).
        }
    }

    /// <summary>Reads the row, lets <paramref name="change"/> decide the new one (null: leave it), writes it on the ETag read; again when another write came between.</summary>
    private async Task ChangeAsync(string connector, Func<TableEntity?, TableEntity?> change, CancellationToken cancellationToken)
    {
        var table = await _table.GetAsync(cancellationToken);
        var key = TableKeys.Escape(connector);
        for (var attempt = 1; ; attempt++)
        {
            var read = await table.GetEntityIfExistsAsync<TableEntity>(Partition, key, cancellationToken: cancellationToken);
            var stored = read.HasValue ? read.Value : null;
            if (change(stored) is not { } updated)
            {
                return;
            }

            try
            {
                if (stored is null)
                {
                    await table.AddEntityAsync(updated, cancellationToken);
                }
                else
                {
                    await table.UpdateEntityAsync(updated, stored.ETag, TableUpdateMode.Replace, cancellationToken);
                }

                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxTries)
            {
                // Another instance wrote the row between the read and this write: decide again on what it wrote.
            }
        }
    }

    private static TableEntity ToRow(ConnectorPause pause) => new(Partition, TableKeys.Escape(pause.Connector))
    {
        ["Reason"] = pause.Reason,
        ["Since"] = pause.Since,
        ["Queues"] = string.Join(',', pause.Queues),
        ["NextProbe"] = pause.NextProbe,
    };

    private static ConnectorPause ToPause(TableEntity row) => new(
        TableKeys.Unescape(row.RowKey),
        row.GetString("Reason") ?? string.Empty,
        row.GetDateTimeOffset("Since") ?? DateTimeOffset.MinValue,
        (row.GetString("Queues") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries),
        row.GetDateTimeOffset("NextProbe") ?? DateTimeOffset.MinValue);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
