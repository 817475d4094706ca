namespace EntraSnow.ServiceNow.Tests;

/// <summary>
/// A clock on which every wait completes at once and moves virtual time forward by what was asked, so tests can wait
/// out Retry-After and backoff without sleeping, and still see how long the connector would have waited.
/// </summary>
internal sealed class SkippingTimeProvider : TimeProvider
{
    private long _ticks = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero).UtcTicks;
    private long _waitedTicks;

    /// <summary>The total of every wait requested so far.</summary>
    public TimeSpan Waited => TimeSpan.FromTicks(Interlocked.Read(ref _waitedTicks));

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new SkippingTimer(this, callback, state, dueTime);

    private sealed class SkippingTimer : ITimer
    {
        private readonly SkippingTimeProvider _clock;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private volatile bool _disposed;

        public SkippingTimer(SkippingTimeProvider clock, TimerCallback callback, object? state, TimeSpan dueTime)
        {
            _clock = clock;
            _callback = callback;
            _state = state;
            Change(dueTime, Timeout.InfiniteTimeSpan);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed || dueTime == Timeout.InfiniteTimeSpan)
            {
                return !_disposed;
            }

            _clock.Advance(dueTime);
            Interlocked.Add(ref _clock._waitedTicks, dueTime.Ticks);
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                if (!_disposed)
                {
                    _callback(_state);
                }
            }, null);
            return true;
        }

        public void Dispose() => _disposed = true;

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
