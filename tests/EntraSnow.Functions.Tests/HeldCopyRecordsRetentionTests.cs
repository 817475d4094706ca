using Azure.Data.Tables;
using EntraSnow.Flows.Messaging;
using EntraSnow.Stores.AzureTables;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Functions.Tests;

/// <summary>
/// The records of copies held for a paused connector (Table storage, Azurite) do not pile up: one that no copy took is
/// forgotten at retention's dead-letter cutoff, while a copy still waiting out a long pause keeps its record.
/// </summary>
public sealed class HeldCopyRecordsRetentionTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
    private readonly string _prefix = "R" + Guid.NewGuid().ToString("N")[..10];

    private TableServiceClient Service => new(azurite.ConnectionString);

    private TableHeldCopies Records() => new(Service, _clock, _prefix);

    private static HeldCopy Held(string user) => new("servicenow", QueueNames.UserChanges, new ChangeMessage
    {
        MessageId = "held-" + user, SessionKey = user, Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = user,
        ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "c-" + user,
    }, SequenceNumber: 7);

    private async Task<List<string>> RowKeysAsync()
    {
        var table = Service.GetTableClient(_prefix + "HeldMessages");
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(select: ["RowKey"]))
        {
            keys.Add(row.RowKey);
        }

        return keys;
    }

    [Fact]
    public async Task A_record_no_copy_took_is_forgotten_at_the_cutoff_and_a_copy_held_again_keeps_its_record()
    {
        var records = Records();
        await records.RecordAsync(Held("abandoned"));
        await records.RecordAsync(Held("still-paused"));
        _clock.Advance(TimeSpan.FromDays(20));
        await records.RecordAsync(Held("still-paused")); // delivered while the connector was still paused: held again
        _clock.Advance(TimeSpan.FromDays(15));

        var forgotten = await records.ForgetOlderThanAsync(_clock.GetUtcNow() - TimeSpan.FromDays(30));

        Assert.Equal(1, forgotten);
        Assert.Equal(["held-still-paused"], await RowKeysAsync());
        // The copy still held is taken as before when it is delivered.
        Assert.True(await records.TakeAsync("servicenow", "held-still-paused", "seq-9", replacement: false));
    }

    [Fact]
    public async Task A_record_written_before_records_carried_their_time_is_forgotten_one_retention_period_later()
    {
        var table = Service.GetTableClient(_prefix + "HeldMessages");
        await table.CreateIfNotExistsAsync();
        await table.UpsertEntityAsync(new TableEntity("servicenow", "held-legacy") { ["Queue"] = QueueNames.UserChanges, ["State"] = "held" });
        var records = Records();

        var first = await records.ForgetOlderThanAsync(_clock.GetUtcNow() - TimeSpan.FromDays(30));
        _clock.Advance(TimeSpan.FromDays(31));
        var second = await records.ForgetOlderThanAsync(_clock.GetUtcNow() - TimeSpan.FromDays(30));

        Assert.Equal([0, 1], [first, second]);
        Assert.Empty(await RowKeysAsync());
    }
}
