using EntraSnow.Prove.Scenarios;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// A scenario's emulators and an in-process local host, all on one <see cref="VirtualClock"/>, the host subscribed to
/// Graph's user changes: the set-up every virtual-time scenario starts from.
/// </summary>
internal sealed class VirtualWorld : IAsyncDisposable
{
    private VirtualWorld(VirtualClock clock, Stage stage, InProcessLocalHost host, Dictionary<string, string?> settings)
    {
        Clock = clock;
        Stage = stage;
        Host = host;
        Settings = settings;
        Time = new TimeMachine(clock, host);
    }

    public VirtualClock Clock { get; }

    public Stage Stage { get; }

    public InProcessLocalHost Host { get; }

    /// <summary>The host's settings, for CLI commands run beside it.</summary>
    public Dictionary<string, string?> Settings { get; }

    public TimeMachine Time { get; }

    /// <param name="prepare">Runs after the emulators are seeded and before the host starts: reference data, extra settings.</param>
    public static async Task<VirtualWorld> StartAsync(ProofContext context, string folderName, int users,
        Action<Stage, Dictionary<string, string?>>? prepare = null, CancellationToken cancellationToken = default)
    {
        var clock = new VirtualClock();
        var folder = context.FolderFor(folderName);
        var stage = await Stage.StartAsync(folder, context.Secrets, users, clock, cancellationToken);
        try
        {
            var settings = stage.HostSettings(ChildLocalHost.FreeLoopbackUrl(), Path.Combine(folder, "data"));
            prepare?.Invoke(stage, settings);
            var host = await InProcessLocalHost.StartAsync(settings, clock, Path.Combine(folder, "local-host.log"));
            var world = new VirtualWorld(clock, stage, host, settings);
            if (!await stage.WaitForSubscriptionAsync(host.BaseUrl, TimeSpan.FromSeconds(30)))
            {
                await world.DisposeAsync();
                throw new TimeoutException("The local host did not subscribe to Graph's user changes.");
            }

            return world;
        }
        catch (Exception) when (stage is not null)
        {
            await stage.DisposeAsync();
            throw;
        }
    }

    public Task<Settling.Outcome> SettleAsync(IReadOnlyCollection<string> touched, bool stepTime = true) =>
        Settling.WaitAsync(Stage, Host.HealthAsync, touched, TimeSpan.FromSeconds(30), stepTime ? Time.StepAsync : null);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Stage.DisposeAsync();
    }
}
