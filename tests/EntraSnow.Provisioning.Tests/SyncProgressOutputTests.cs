using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.ProvisioningLog;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Provisioning.Tests;

/// <summary>A sync whose output goes to a file or a pipe writes readable lines, a few seconds apart, not a redrawn bar.</summary>
public sealed class SyncProgressOutputTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private static SyncProgress Progress(SyncPhase phase, int done, int queued = 1000, bool timedOut = false) =>
        new("run-1", phase, queued, done, phase == SyncPhase.Completed, ProvisioningSummary.Empty, Start, null, timedOut);

    private static string[] Lines(StringWriter output) => output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Redirected_output_gets_a_line_every_five_seconds_instead_of_carriage_returns()
    {
        var clock = new FakeTimeProvider(Start);
        var output = new StringWriter();
        var progress = SyncProgressOutput.For(output, clock);

        // 12 seconds of the runner's reports, four a second, 10 more users done each time.
        for (var i = 0; i <= 48; i++)
        {
            progress.Report(Progress(SyncPhase.ProvisioningUsers, i * 10));
            clock.Advance(TimeSpan.FromMilliseconds(250));
        }

        var lines = Lines(output);
        Assert.DoesNotContain('\r', output.ToString());
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("09:00:00 ", lines[0]);
        Assert.StartsWith("09:00:05 ", lines[1]);
        Assert.StartsWith("09:00:10 ", lines[2]);
        Assert.Contains("users 200/1000 provisioning users, 40 users/s", lines[1]);
    }

    [Fact]
    public void A_change_of_phase_and_the_end_of_the_run_are_printed_at_once()
    {
        var clock = new FakeTimeProvider(Start);
        var output = new StringWriter();
        var progress = SyncProgressOutput.For(output, clock);

        progress.Report(Progress(SyncPhase.QueuingUsers, 0, queued: 0));
        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(Progress(SyncPhase.ProvisioningUsers, 10));
        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(Progress(SyncPhase.ProvisioningGroups, 1000));
        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(Progress(SyncPhase.Completed, 1000));
        progress.Report(Progress(SyncPhase.Completed, 1000));

        var lines = Lines(output);
        Assert.Equal(4, lines.Length);
        Assert.Contains("reading Entra ID", lines[0]);
        Assert.Contains("users 10/1000 provisioning users", lines[1]);
        Assert.Contains("provisioning groups", lines[2]);
        Assert.Contains("users 1000/1000 done", lines[3]);
    }

    [Fact]
    public void A_run_the_command_stops_waiting_for_says_so_on_its_last_line()
    {
        var clock = new FakeTimeProvider(Start);
        var output = new StringWriter();
        var progress = SyncProgressOutput.For(output, clock);

        progress.Report(Progress(SyncPhase.ProvisioningUsers, 10));
        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(Progress(SyncPhase.ProvisioningUsers, 20, timedOut: true));

        Assert.EndsWith("(stopped waiting)", Lines(output)[^1]);
    }
}
