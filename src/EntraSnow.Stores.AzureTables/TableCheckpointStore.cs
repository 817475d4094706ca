using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using EntraSnow.Flows.Stores;

namespace EntraSnow.Stores.AzureTables;

/// <summary>Checkpoints (delta links, sync runs, creation markers) as rows of one table.</summary>
public sealed class TableCheckpointStore(TableServiceClient service, string tablePrefix = "EntraSnow", TimeProvider? clock = null) : ICheckpointStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private const string Partition = "checkpoint";
    private readonly LazyTable _table = new(service, tablePrefix + "Checkpoints");

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, TableKeys.Escape(key), ["Value"], cancellationToken);
        return row.HasValue ? row.Value!.GetString("Value") : null;
    }

    public async Task SetAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var entity = new TableEntity(Partition, TableKeys.Escape(key)) { ["Value"] = value, ["UpdatedAt"] = _clock.GetUtcNow() };
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>In transactions of up to 100 rows (every checkpoint is in one partition), each key once per transaction, the last value winning.</summary>
    public async Task SetManyAsync(IReadOnlyCollection<KeyValuePair<string, string>> values, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var now = _clock.GetUtcNow();
        var rows = values.GroupBy(v => v.Key, StringComparer.Ordinal).Select(same => same.Last());
        foreach (var chunk in rows.Chunk(TableDeletes.MaxPerTransaction))
        {
            await table.SubmitTransactionAsync(chunk.Select(v => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(Partition, TableKeys.Escape(v.Key)) { ["Value"] = v.Value, ["UpdatedAt"] = now })), cancellationToken);
        }
    }

    public async IAsyncEnumerable<StoredCheckpoint> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        var start = TableKeys.Escape(prefix);
        // Rows come in RowKey order and escaping keeps prefixes: read from the prefix on, stop at the first key past it.
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {start}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (!row.RowKey.StartsWith(start, StringComparison.Ordinal))
            {
                yield break;
            }

            // Rows written before UpdatedAt was stored carry the service's own last-modified time.
            yield return new StoredCheckpoint(TableKeys.Unescape(row.RowKey), row.GetString("Value") ?? string.Empty,
                row.GetDateTimeOffset("UpdatedAt") ?? row.Timestamp ?? DateTimeOffset.MinValue);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var table = await _table.GetAsync(cancellationToken);
        try
        {
            await table.DeleteEntityAsync(Partition, TableKeys.Escape(key), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone: deleting is idempotent.
        }
    }
}

/// <summary>A table client whose table is created once, on first use.</summary>
internal sealed class LazyTable(TableServiceClient service, string name)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private TableClient? _client;

    public async Task<TableClient> GetAsync(CancellationToken cancellationToken)
    {
        if (_client is not null)
        {
            return _client;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_client is null)
            {
                var client = service.GetTableClient(name);
                await client.CreateIfNotExistsAsync(cancellationToken);
                _client = client;
            }

            return _client;
        }
        finally
        {
            _gate.Release();
        }
    }
}
