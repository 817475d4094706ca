namespace EntraSnow.Prove.Rig;

/// <summary>
/// A clock that runs with the wall clock and can be moved forward at will: an hour-long outage passes in a few seconds,
/// and everything timed on this clock (queue visibility and reschedules, retry backoffs, circuit breaks, tokens'
/// lifetimes, timers) sees the hour pass. Timers due inside a jump fire when it is made; the rest keep their due time.
/// </summary>
internal sealed class VirtualClock : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<JumpableTimer> _timers = [];
    private long _offsetTicks;

    /// <summary>How far this clock is ahead of the wall clock.</summary>
    public TimeSpan Ahead => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Ahead;

    public override long GetTimestamp() => System.GetTimestamp() + (long)(Ahead.Ticks * (TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    public override long TimestampFrequency => System.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new JumpableTimer(this, callback, state);
        lock (_gate)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock on by <paramref name="by"/>; every timer due by then fires now.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _offsetTicks, by.Ticks);
        JumpableTimer[] timers;
        lock (_gate)
        {
            timers = [.. _timers];
        }

        foreach (var timer in timers)
        {
            timer.Rearm();
        }
    }

    private void Forget(JumpableTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    /// <summary>A wall-clock timer aimed at a due time on the virtual clock, aimed again after each jump.</summary>
    private sealed class JumpableTimer : ITimer
    {
        private readonly VirtualClock _clock;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private readonly Timer _timer;
        private readonly Lock _gate = new();
        private DateTimeOffset? _due;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public JumpableTimer(VirtualClock clock, TimerCallback callback, object? state)
        {
            _clock = clock;
            _callback = callback;
            _state = state;
            _timer = new Timer(_ => Fire(), null, Timeout.Infinite, Timeout.Infinite);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return false;
                }

                _period = period;
                _due = dueTime == Timeout.InfiniteTimeSpan ? null : _clock.GetUtcNow() + dueTime;
                ArmLocked();
                return true;
            }
        }

        public void Rearm()
        {
            lock (_gate)
            {
                if (!_disposed)
                {
                    ArmLocked();
                }
            }
        }

        private void ArmLocked()
        {
            if (_due is not { } due)
            {
                _timer.Change(Timeout.Infinite, Timeout.Infinite);
                return;
            }

            var wait = due - _clock.GetUtcNow();
            _timer.Change(wait <= TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
        }

        private void Fire()
        {
            lock (_gate)
            {
                if (_disposed || _due is not { } due)
                {
                    return;
                }

                if (due > _clock.GetUtcNow())
                {
                    // The wall-clock timer ran a little early: aim again.
                    ArmLocked();
                    return;
                }

                _due = _period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero ? null : due + _period;
                if (_due is { } next && next < _clock.GetUtcNow())
                {
                    // A jump over several periods fires once, then keeps the rhythm from now (as PeriodicTimer does).
                    _due = _clock.GetUtcNow() + _period;
                }

                ArmLocked();
            }

            _callback(_state);
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                _due = null;
            }

            _timer.Dispose();
            _clock.Forget(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
