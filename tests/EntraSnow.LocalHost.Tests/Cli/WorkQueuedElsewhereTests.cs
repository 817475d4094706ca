using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Cli;

/// <summary>
/// Work a command queues beside a serving local host (a <c>sync</c> in another terminal writes the same queue file from
/// its own process, with its own queue store): the command tells the host, and the host's consumers take it at once.
/// The host runs on a clock that never moves, so its idle poll (30 s) cannot be what makes them look.
/// </summary>
public sealed class WorkQueuedElsewhereTests
{
    [Fact]
    public async Task Users_a_command_queues_beside_a_serving_host_are_provisioned_by_that_host_at_once()
    {
        // An hour ahead of the command's real clock, so what the command queues (due at its "now") is due for the host.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        // No timer, so no Graph subscription: a user created in the emulator reaches the host only through the command.
        await using var host = await LocalHostHarness.StartEmptyAsync(clock: clock);
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        var users = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            users.Add(await graph.CreateUserAsync($"Beside User {i}"));
        }

        await using var command = new SqliteQueueStore(Path.Combine(host.DataPath, "queues.db"), Options.Create(new SqliteQueueOptions()),
            TimeProvider.System, NullLogger<SqliteQueueStore>.Instance);
        await using (new ServingHostWaker(command, host.BaseUrl))
        {
            await command.SendAsync(QueueNames.UserChanges, [.. users.Select(Changed)]);

            await Eventually.AssertAsync(() => users.All(id => serviceNow.Query("sys_user", $"u_entra_object_id={id}").Count == 1),
                "every user the command queued in ServiceNow, provisioned by the serving host");
        }
    }

    private static ChangeMessage Changed(string userId) => new()
    {
        MessageId = "beside-" + userId, SessionKey = userId, Kind = MessageKinds.UserUpdated, TenantId = "sandbox", SubjectId = userId,
        ChangedAt = DateTimeOffset.UtcNow, CorrelationId = "beside-change",
    };
}
