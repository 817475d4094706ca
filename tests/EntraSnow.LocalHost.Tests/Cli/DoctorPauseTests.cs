using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Cli;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Cli;

public sealed class DoctorPauseTests
{
    [Fact]
    public async Task Doctor_explains_a_connector_the_serving_host_paused_which_why_since_when_and_what_to_do()
    {
        await using var host = await LocalHostHarness.StartAsync(LocalHostHarness.IntakeOnly("doctor-pause-client-state-0123456789"));
        var handler = Substitute.For<IMessageHandler>();
        handler.Queue.Returns(QueueNames.UserChanges);
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new ServiceNowUnauthorizedException("ServiceNow refused the OAuth client credentials.")));
        await host.Services.GetRequiredService<MessageProcessor>().ProcessAsync(handler, new ChangeMessage
        {
            MessageId = "m1", SessionKey = "u1", Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = "u1", ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "c1",
        }, CancellationToken.None);

        using var output = new StringWriter();
        var exit = await LocalHostCommandLine.RunAsync(
            ["doctor", $"--LocalHost:DataPath={host.DataPath}", $"--LocalHost:Url={host.BaseUrl}", "--Logging:LogLevel:Default=Warning"], output);

        Assert.Equal(1, exit);
        var line = Assert.Single(output.ToString().Split('\n'), l => l.Contains("is paused", StringComparison.Ordinal));
        Assert.StartsWith("  FAIL  ServiceNow is paused in the serving local host since ", line, StringComparison.Ordinal);
        Assert.Contains("credentials refused (401): ServiceNow refused the OAuth client credentials.", line, StringComparison.Ordinal);
        Assert.Contains("The work of user-changes waits (nothing is dead-lettered meanwhile)", line, StringComparison.Ordinal);
        Assert.Contains("ServiceNow:ClientSecret", line, StringComparison.Ordinal);
    }
}
