using System.Text.Json;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Hosting;

public sealed class PausedConnectorHealthTests
{
    [Fact]
    public async Task Health_is_degraded_and_names_the_paused_connector_until_its_work_succeeds_again()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("paused-connector-client-state"),
            configure: builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var processor = host.Services.GetRequiredService<MessageProcessor>();
        var handler = Substitute.For<IMessageHandler>();
        handler.Queue.Returns(QueueNames.UserChanges);
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new ServiceNowUnauthorizedException("ServiceNow refused the OAuth client credentials.")));
        var message = new ChangeMessage
        {
            MessageId = "m1",
            SessionKey = "u1",
            Kind = MessageKinds.UserUpdated,
            TenantId = "t",
            SubjectId = "u1",
            ChangedAt = DateTimeOffset.UnixEpoch,
            CorrelationId = "c1",
        };

        await processor.ProcessAsync(handler, message, CancellationToken.None);
        using (var health = JsonDocument.Parse(await host.Client.GetStringAsync("/api/health")))
        {
            Assert.Equal("degraded", health.RootElement.GetProperty("status").GetString());
            var paused = Assert.Single(health.RootElement.GetProperty("paused").EnumerateArray().ToList());
            Assert.Equal("serviceNow", paused.GetProperty("connector").GetString());
            Assert.Contains("credentials refused", paused.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        // The next probe, a probe interval later, gets through.
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.CompletedTask);
        clock.Advance(new MessagingOptions().PausedRetryDelay);
        await processor.ProcessAsync(handler, message, CancellationToken.None);
        using var healed = JsonDocument.Parse(await host.Client.GetStringAsync("/api/health"));
        Assert.Equal("healthy", healed.RootElement.GetProperty("status").GetString());
        Assert.Empty(healed.RootElement.GetProperty("paused").EnumerateArray());
    }
}
