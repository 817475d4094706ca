using System.Diagnostics;

namespace EntraSnow.Prove.Rig;

/// <summary>Waits for something the local host makes true in the background, checking often; no fixed sleeps.</summary>
internal static class Converge
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>True once <paramref name="condition"/> holds; false after <paramref name="patience"/>.</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan patience)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > patience)
            {
                return false;
            }

            await Task.Delay(Poll);
        }

        return true;
    }

    /// <summary>
    /// True once <paramref name="condition"/> holds; false when <paramref name="progress"/> has not moved for
    /// <paramref name="stall"/>: a busy machine is slow, a stuck host is stuck. <paramref name="between"/> runs at
    /// each check that is not done yet (a virtual clock's step, say).
    /// </summary>
    public static async Task<bool> UntilSettledAsync(Func<Task<bool>> condition, Func<Task<long>> progress, TimeSpan stall, Func<Task>? between = null)
    {
        var stalled = Stopwatch.StartNew();
        var last = long.MinValue;
        while (!await condition())
        {
            var now = await progress();
            if (now != last)
            {
                last = now;
                stalled.Restart();
            }
            else if (stalled.Elapsed > stall)
            {
                return false;
            }

            if (between is not null)
            {
                await between();
            }

            await Task.Delay(Poll);
        }

        return true;
    }
}
