using Azure.Data.Tables;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Stores.AzureTables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using EntraSnow.Tests.Shared;

namespace EntraSnow.Provisioning.Tests.AzureTables;

public sealed class AzureTableStoresTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private readonly string _prefix = "T" + Guid.NewGuid().ToString("N")[..10];

    private TableServiceClient Service => new(azurite.ConnectionString);

    [Fact]
    public async Task A_checkpoint_survives_a_new_store_instance_and_can_be_deleted_twice()
    {
        await new TableCheckpointStore(Service, _prefix).SetAsync("delta:groups", "https://graph/delta?$deltatoken=a/b#c");

        var reopened = new TableCheckpointStore(Service, _prefix);
        Assert.Equal("https://graph/delta?$deltatoken=a/b#c", await reopened.GetAsync("delta:groups"));

        await reopened.DeleteAsync("delta:groups");
        await reopened.DeleteAsync("delta:groups");
        Assert.Null(await reopened.GetAsync("delta:groups"));
    }

    [Fact]
    public async Task Checkpoints_written_at_once_are_all_kept_past_a_transaction_of_a_hundred_and_the_last_value_of_a_key_wins()
    {
        var store = new TableCheckpointStore(Service, _prefix);
        await store.SetAsync("groupmember:g:m000", "out:2");
        var values = Enumerable.Range(0, 250).Select(i => KeyValuePair.Create($"groupmember:g:m{i:D3}", "in:1"))
            .Append(KeyValuePair.Create("groupmember:g:m007", "in:3")).ToList();

        await store.SetManyAsync(values);

        var listed = await new TableCheckpointStore(Service, _prefix).ListAsync("groupmember:g:").ToListAsync();
        Assert.Equal(250, listed.Count);
        Assert.Equal("in:1", listed[0].Value);
        Assert.Equal("in:3", listed.Single(c => c.Key == "groupmember:g:m007").Value);
    }

    [Fact]
    public async Task The_provisioning_log_answers_by_correlation_by_subject_and_recent_with_a_summary()
    {
        var log = new TableProvisioningLog(Service, TimeProvider.System, _prefix);
        var now = DateTimeOffset.UtcNow;
        await log.AppendAsync(Entry("run-1", "u/1", ProvisioningAction.Created, now, ["user_name", "email"]));
        await log.AppendAsync(Entry("run-1", "u/1", ProvisioningAction.Unchanged, now.AddSeconds(1), []));
        await log.AppendAsync(Entry("run-1", "u2", ProvisioningAction.Failed, now.AddSeconds(2), [], "No cmn_department record has name 'Research'"));
        await log.AppendAsync(Entry("msg-9", "u/1", ProvisioningAction.Deactivated, now.AddSeconds(3), ["active", "locked_out"], "account disabled in Entra ID"));

        var run = await log.GetByCorrelationAsync("run-1");
        Assert.Equal([ProvisioningAction.Created, ProvisioningAction.Unchanged, ProvisioningAction.Failed], run.Select(e => e.Action));
        Assert.Equal(["user_name", "email"], run[0].ChangedFields);

        var subject = await log.GetBySubjectAsync("u/1", 10);
        Assert.Equal(ProvisioningAction.Deactivated, subject[0].Action);
        Assert.Equal(3, subject.Count);

        var recent = await log.GetRecentAsync(2);
        Assert.Equal(["u/1", "u2"], recent.Select(e => e.SubjectId));

        var summary = await log.GetSummaryAsync("run-1");
        Assert.Equal(1, summary.Users.Created);
        Assert.Equal(1, summary.Users.Failed);
        Assert.Contains("'Research'", Assert.Single(summary.Failures).Reason);
    }

    [Fact]
    public void The_stores_register_from_configuration_and_refuse_to_start_without_an_account()
    {
        var missing = new ServiceCollection().AddAzureTableStores(new ConfigurationBuilder().Build()).BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => missing.GetRequiredService<IOptions<AzureTablesOptions>>().Value);
        Assert.Contains("Endpoint", ex.Message);

        var configured = new ServiceCollection().AddAzureTableStores(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AzureTables:ConnectionString"] = azurite.ConnectionString })
            .Build()).BuildServiceProvider();
        Assert.IsType<TableProvisioningLog>(configured.GetRequiredService<IProvisioningLog>());
        Assert.IsType<TableWebhookReplayStore>(configured.GetRequiredService<IWebhookReplayStore>());
    }

    [Fact]
    public async Task A_webhook_request_id_is_taken_once_across_instances_even_when_sent_at_once_and_free_again_once_forgotten()
    {
        var signedAt = DateTimeOffset.UtcNow;
        var id = "req/" + Guid.NewGuid().ToString("N");
        var stores = Enumerable.Range(0, 4).Select(_ => new TableWebhookReplayStore(Service, _prefix)).ToList();

        var taken = await Task.WhenAll(stores.Select(s => s.TryRememberAsync(id, signedAt)));

        Assert.Equal(1, taken.Count(t => t));
        Assert.False(await new TableWebhookReplayStore(Service, _prefix).TryRememberAsync(id, signedAt));
        await stores[0].ForgetAsync(id, signedAt);
        await stores[0].ForgetAsync(id, signedAt);
        Assert.True(await stores[1].TryRememberAsync(id, signedAt));
    }

    [Fact]
    public async Task Retention_deletes_log_entries_older_than_the_cutoff_from_every_view_and_keeps_the_rest()
    {
        var now = DateTimeOffset.UtcNow;
        var log = new TableProvisioningLog(Service, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now), _prefix);
        for (var i = 0; i < 105; i++)
        {
            // More than one transaction's worth (100) in one correlation partition.
            await log.AppendAsync(Entry("old-run", $"u{i % 3}", ProvisioningAction.Created, now.AddDays(-100).AddSeconds(i), []));
        }

        await log.AppendAsync(Entry("new-run", "u1", ProvisioningAction.Updated, now.AddHours(-1), ["title"]));

        var deleted = await log.PurgeOlderThanAsync(now.AddDays(-90));

        Assert.Equal(105, deleted);
        Assert.Empty(await log.GetByCorrelationAsync("old-run"));
        Assert.Equal(["new-run"], (await log.GetBySubjectAsync("u1", 100)).Select(e => e.CorrelationId));
        Assert.Single(await log.GetRecentAsync(100));
        Assert.Single(await log.GetByCorrelationAsync("new-run"));
    }

    [Fact]
    public async Task Webhook_request_ids_past_the_replay_window_are_deleted_and_recent_ones_still_refuse_a_replay()
    {
        var store = new TableWebhookReplayStore(Service, _prefix);
        var now = DateTimeOffset.UtcNow;
        Assert.True(await store.TryRememberAsync("old-1", now.AddDays(-2)));
        Assert.True(await store.TryRememberAsync("old-2", now - ServiceNowWebhookOptions.Window - TimeSpan.FromSeconds(1)));
        Assert.True(await store.TryRememberAsync("fresh", now.AddSeconds(-30)));

        Assert.Equal(2, await store.PurgeExpiredAsync(now));

        Assert.False(await store.TryRememberAsync("fresh", now.AddSeconds(-30)));
        Assert.True(await store.TryRememberAsync("old-1", now.AddDays(-2)));
    }

    [Fact]
    public async Task Checkpoints_are_listed_by_prefix_with_their_original_keys_and_when_they_were_written()
    {
        var written = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        var store = new TableCheckpointStore(Service, _prefix, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(written));
        await store.SetAsync("deleted:user:a/1", "x");
        await store.SetAsync("deleted:user:b#2", "y");
        await store.SetAsync("deleted:group:g", "z");
        await store.SetAsync("delta:users", "link");

        var users = await store.ListAsync("deleted:user:").ToListAsync();

        Assert.Equal(["deleted:user:a/1", "deleted:user:b#2"], users.Select(c => c.Key));
        Assert.Equal(["x", "y"], users.Select(c => c.Value));
        Assert.All(users, c => Assert.Equal(written, c.UpdatedAt));
        Assert.Equal(3, await store.ListAsync("deleted:").CountAsync());
    }

    private static ProvisioningLogEntry Entry(string correlation, string subject, ProvisioningAction action, DateTimeOffset at, string[] fields, string? reason = null) => new()
    {
        Timestamp = at,
        CorrelationId = correlation,
        MessageId = $"{correlation}:{subject}",
        SubjectId = subject,
        ObjectKind = ProvisioningObjectKinds.User,
        Action = action,
        ChangedFields = fields,
        Reason = reason,
    };
}
