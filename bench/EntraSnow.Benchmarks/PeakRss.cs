using System.Diagnostics;

namespace EntraSnow.Benchmarks;

/// <summary>
/// The process's peak resident memory while it lives, sampled every 20 ms (Linux keeps no resettable high-water mark
/// per phase), and what it was when sampling started.
/// </summary>
internal sealed class PeakRss : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private long _peak;

    private PeakRss()
    {
        using var self = Process.GetCurrentProcess();
        Baseline = _peak = self.WorkingSet64;
        _sampler = Task.Run(SampleAsync);
    }

    public long Baseline { get; }

    public long Peak => Interlocked.Read(ref _peak);

    public static PeakRss Start()
    {
        GC.Collect();
        return new PeakRss();
    }

    public static string MiB(long bytes) => $"{bytes / 1048576.0:N0} MiB";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampler;
        _stop.Dispose();
    }

    private async Task SampleAsync()
    {
        using var self = Process.GetCurrentProcess();
        while (!_stop.IsCancellationRequested)
        {
            self.Refresh();
            var now = self.WorkingSet64;
            if (now > Interlocked.Read(ref _peak))
            {
                Interlocked.Exchange(ref _peak, now);
            }

            try
            {
                await Task.Delay(20, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
