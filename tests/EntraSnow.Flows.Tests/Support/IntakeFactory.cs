using EntraSnow.Tests.Shared;
using EntraSnow.Flows.Intake;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.Support;

/// <summary>Builds the intake flow over a substitute queue that records what it was given.</summary>
internal sealed class IntakeFactory : IDisposable
{
    private readonly ServiceProvider _services;

    public IntakeFactory(string clientState = Samples.ClientState, string? previousClientState = null)
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Queue = Substitute.For<IMessageQueue>();
        Queue.SendAsync(Arg.Any<string>(), Arg.Any<IReadOnlyList<ChangeMessage>>(), Arg.Any<CancellationToken>())
            .Returns(Task.CompletedTask)
            .AndDoes(call => Sent.AddRange(call.ArgAt<IReadOnlyList<ChangeMessage>>(1).Select(m => (call.ArgAt<string>(0), m))));
        var options = Options.Create(new GraphIntakeOptions { ClientState = clientState, PreviousClientState = previousClientState });
        MeterFactory = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        Metrics = new IntakeMetrics(MeterFactory);
        Intake = new GraphNotificationIntake(Queue, new ClientStateCheck(options), Metrics, Clock, NullLogger<GraphNotificationIntake>.Instance);
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 20, 9, 15, 0, TimeSpan.Zero));

    public IMessageQueue Queue { get; }

    public List<(string Queue, ChangeMessage Message)> Sent { get; } = [];

    public System.Diagnostics.Metrics.IMeterFactory MeterFactory { get; }

    public IntakeMetrics Metrics { get; }

    public GraphNotificationIntake Intake { get; }

    public void Dispose()
    {
        Metrics.Dispose();
        _services.Dispose();
    }
}
