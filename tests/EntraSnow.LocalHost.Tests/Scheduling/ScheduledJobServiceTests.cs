using EntraSnow.Flows.Scheduling;
using EntraSnow.LocalHost.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Scheduling;

public sealed class ScheduledJobServiceTests
{
    /// <summary>A fake clock that says when someone starts waiting on it, so the test advances time only then.</summary>
    private sealed class WatchedClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly SemaphoreSlim _timers = new(0);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _timers.Release();
            return timer;
        }

        public Task<bool> WaitForTimerAsync() => _timers.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private sealed class RecordingJob(TimeProvider clock, CronSchedule? schedule, TimeSpan interval) : IScheduledJob
    {
        public List<DateTimeOffset> Runs { get; } = [];

        public SemaphoreSlim Ran { get; } = new(0);

        public string Name => "recording";

        public TimeSpan Interval => interval;

        public CronSchedule? Schedule => schedule;

        public bool RunOnStart => false;

        public Task RunAsync(CancellationToken cancellationToken)
        {
            lock (Runs)
            {
                Runs.Add(clock.GetUtcNow());
            }

            Ran.Release();
            return Task.CompletedTask;
        }
    }

    private static ScheduledJobService Service(IScheduledJob job, TimeProvider clock)
    {
        var lifetime = Substitute.For<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Returns(new CancellationToken(canceled: true));
        return new ScheduledJobService([job], Options.Create(new LocalHostOptions()), lifetime, clock, NullLogger<ScheduledJobService>.Instance);
    }

    [Fact]
    public async Task A_scheduled_job_runs_at_each_occurrence_of_its_cron_schedule_and_not_before()
    {
        var clock = new WatchedClock(new DateTimeOffset(2026, 11, 30, 2, 0, 0, TimeSpan.Zero));
        var job = new RecordingJob(clock, CronSchedule.Parse("0 0 3 * * *"), interval: TimeSpan.FromMinutes(1));
        using var service = Service(job, clock);
        await service.StartAsync(CancellationToken.None);

        Assert.True(await clock.WaitForTimerAsync(), "the job never started waiting for its first occurrence");
        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Empty(job.Runs);

        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await job.Ran.WaitAsync(TimeSpan.FromSeconds(10)), "the job did not run at 03:00");
        Assert.True(await clock.WaitForTimerAsync(), "the job did not wait for its next occurrence");
        clock.Advance(TimeSpan.FromDays(1));
        Assert.True(await job.Ran.WaitAsync(TimeSpan.FromSeconds(10)), "the job did not run the next day");

        await service.StopAsync(CancellationToken.None);
        Assert.Equal(
            [new DateTimeOffset(2026, 11, 30, 3, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero)],
            job.Runs);
    }

    [Fact]
    public async Task A_job_without_a_schedule_runs_on_its_interval()
    {
        var clock = new WatchedClock(new DateTimeOffset(2026, 11, 30, 2, 0, 0, TimeSpan.Zero));
        var job = new RecordingJob(clock, schedule: null, interval: TimeSpan.FromMinutes(10));
        using var service = Service(job, clock);
        await service.StartAsync(CancellationToken.None);

        Assert.True(await clock.WaitForTimerAsync(), "the job never started its interval timer");
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.True(await job.Ran.WaitAsync(TimeSpan.FromSeconds(10)), "the job did not run after its interval");

        await service.StopAsync(CancellationToken.None);
        Assert.Equal([new DateTimeOffset(2026, 11, 30, 2, 10, 0, TimeSpan.Zero)], job.Runs);
    }
}
