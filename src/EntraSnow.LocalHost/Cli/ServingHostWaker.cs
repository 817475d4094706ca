using System.Threading.Channels;
using EntraSnow.LocalHost.Queueing;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// Passes this process's sends on to the local host serving beside it, so its consumers take a <c>sync</c>'s work at
/// once rather than at their next idle poll. Sends that come while a call is on its way make one more call, not one each.
/// </summary>
internal sealed class ServingHostWaker : IAsyncDisposable
{
    private readonly SqliteQueueStore _queues;
    private readonly Channel<bool> _pokes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Task _calls;

    public ServingHostWaker(SqliteQueueStore queues, string url)
    {
        _queues = queues;
        _queues.Queued += Poke;
        _calls = CallAsync(url);
    }

    private void Poke(string queue) => _pokes.Writer.TryWrite(true);

    private async Task CallAsync(string url)
    {
        await foreach (var _ in _pokes.Reader.ReadAllAsync())
        {
            // A host that stopped meanwhile finds the work when it starts again: nothing is lost by a call that fails.
            await RunningLocalHost.NotifyWorkQueuedAsync(url);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queues.Queued -= Poke;
        _pokes.Writer.TryComplete();
        await _calls;
    }
}
