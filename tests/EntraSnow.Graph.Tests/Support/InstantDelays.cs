using System.Collections.Concurrent;

namespace EntraSnow.Graph.Tests.Support;

/// <summary>
/// A virtual clock that moves only when someone waits: every wait completes at once, is recorded, and advances the
/// clock by its length. Tests assert how long the connector chose to wait (Retry-After, backoff, pacing) without
/// spending that time, and without real elapsed time leaking into the figures.
/// </summary>
internal sealed class InstantDelays : TimeProvider
{
    private readonly ConcurrentQueue<TimeSpan> _waits = new();
    private readonly DateTimeOffset _start = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);
    private long _elapsedTicks;

    public override DateTimeOffset GetUtcNow() => _start.AddTicks(Interlocked.Read(ref _elapsedTicks));

    public IReadOnlyList<TimeSpan> Waits => [.. _waits];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            _waits.Enqueue(dueTime);
            Interlocked.Add(ref _elapsedTicks, dueTime.Ticks);
            dueTime = TimeSpan.Zero;
        }

        return base.CreateTimer(callback, state, dueTime, period);
    }
}
