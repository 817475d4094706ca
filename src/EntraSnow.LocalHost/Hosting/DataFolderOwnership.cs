using System.Globalization;
using EntraSnow.LocalHost.Queueing;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>
/// One running local host owns a data folder: it holds an exclusive lock on <c>host.lock</c> there while it runs, which
/// the operating system drops when the process dies, even by kill -9. Owning the folder, the host knows that every queue
/// lock it finds at start was held by a dead process, and releases them at once: those messages (and the later messages
/// about the same objects) are delivered again in seconds instead of after the visibility timeout.
/// Registered before the consumers, so nothing of this process holds a lock yet.
/// </summary>
internal sealed class DataFolderOwnership(
    IOptions<LocalHostOptions> options,
    SqliteQueueStore queues,
    ILogger<DataFolderOwnership> logger) : IHostedService, IDisposable
{
    public const string LockFileName = "host.lock";

    private FileStream? _lock;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(options.Value.DataPath);
        Directory.CreateDirectory(folder);
        try
        {
            // FileShare.None takes an exclusive OS lock (flock on Linux and macOS) that a second process cannot take.
            _lock = new FileStream(Path.Combine(folder, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"Another local host is running with the data folder {folder} (LocalHost:DataPath). Stop it, or give this one its own folder.", ex);
        }

        // For a person looking at the folder: which process owns it.
        _lock.SetLength(0);
        var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        await _lock.WriteAsync(pid, cancellationToken);
        await _lock.FlushAsync(cancellationToken);

        var released = await queues.ReleaseLocksOfDeadProcessAsync(cancellationToken);
        if (released > 0)
        {
            logger.LogWarning("Released {Count} message lock(s) left by a local host that stopped without shutting down; those messages are delivered again now",
                released);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
