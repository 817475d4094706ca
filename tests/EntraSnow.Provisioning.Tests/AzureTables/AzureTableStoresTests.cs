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
