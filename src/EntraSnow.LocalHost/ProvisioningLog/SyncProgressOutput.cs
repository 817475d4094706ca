using System.Globalization;
using EntraSnow.Flows.FullSync;

namespace EntraSnow.LocalHost.ProvisioningLog;

/// <summary>
/// How <c>sync</c> shows its progress: a bar redrawn in place on a terminal; when the output is redirected (a file, a
/// pipe, a CI log) a plain line every few seconds and at each change of phase, so a log gets readable lines rather
/// than one line of thousands of carriage returns.
/// </summary>
public static class SyncProgressOutput
{
    /// <summary>How often a redirected sync prints a line while nothing else changes.</summary>
    public static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);

    /// <summary>The bar for a terminal (the console, not redirected); periodic lines for anything else.</summary>
    public static IProgress<SyncProgress> For(TextWriter output, TimeProvider clock) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
            ? new TerminalBar(output)
            : new PeriodicLines(output, clock, LineInterval);

    internal static string Phase(SyncPhase phase) => phase switch
    {
        SyncPhase.QueuingUsers => "reading Entra ID",
        SyncPhase.ProvisioningUsers => "provisioning users",
        SyncPhase.ProvisioningGroups => "provisioning groups",
        _ => "done",
    };

    /// <summary>One line, redrawn: [#####-----] 52% users 5200/10000 (provisioning users).</summary>
    internal sealed class TerminalBar(TextWriter output) : IProgress<SyncProgress>
    {
        public void Report(SyncProgress value)
        {
            const int width = 30;
            var filled = (int)Math.Round(value.Fraction * width);
            output.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r[{new string('#', filled)}{new string('-', width - filled)}] {value.Fraction,4:P0} users {value.UsersDone}/{value.UsersQueued} ({Phase(value.Phase)})   "));
        }
    }

    /// <summary>
    /// 12:00:05 52% users 5200/10000 provisioning users, 830 users/s: the first report, then at most one line per
    /// <c>interval</c>, plus one whenever the phase changes or the run ends.
    /// </summary>
    internal sealed class PeriodicLines(TextWriter output, TimeProvider clock, TimeSpan interval) : IProgress<SyncProgress>
    {
        private readonly Lock _gate = new();
        private DateTimeOffset? _lastLine;
        private SyncPhase? _lastPhase;
        private bool _ended;

        public void Report(SyncProgress value)
        {
            var now = clock.GetUtcNow();
            var ended = value.Phase == SyncPhase.Completed || value.TimedOut;
            lock (_gate)
            {
                if (_ended || (_lastLine is { } last && now - last < interval && value.Phase == _lastPhase && !ended))
                {
                    return;
                }

                _lastLine = now;
                _lastPhase = value.Phase;
                _ended = ended;
                var elapsed = (now - value.StartedAt).TotalSeconds;
                var rate = elapsed >= 1 ? string.Create(CultureInfo.InvariantCulture, $", {value.UsersDone / elapsed:F0} users/s") : string.Empty;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{now:HH:mm:ss} {value.Fraction,4:P0} users {value.UsersDone}/{value.UsersQueued} {Phase(value.Phase)}{rate}{(value.TimedOut ? " (stopped waiting)" : string.Empty)}"));
            }
        }
    }
}
