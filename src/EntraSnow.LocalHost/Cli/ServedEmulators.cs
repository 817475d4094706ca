using EntraSnow.LocalHost.Hosting;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// In sandbox mode the emulators live in the serving process: a command uses a local host already serving this
/// configuration's URL, or serves them itself for as long as it runs.
/// </summary>
internal sealed class ServedEmulators : IAsyncDisposable
{
    private readonly WebApplication? _started;

    private ServedEmulators(WebApplication? started) => _started = started;

    public static async Task<ServedEmulators> EnsureAsync(CommandScope scope)
    {
        var services = scope.App.Services;
        var startHere = services.GetRequiredService<SandboxMode>().Any
            && !await RunningLocalHost.IsServingAsync(services.GetRequiredService<IOptions<LocalHostOptions>>().Value.Url);
        if (!startHere)
        {
            return new ServedEmulators(null);
        }

        await scope.App.StartAsync();
        return new ServedEmulators(scope.App);
    }

    public async ValueTask DisposeAsync()
    {
        if (_started is not null)
        {
            await _started.StopAsync();
        }
    }
}
