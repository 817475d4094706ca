namespace EntraSnow.Prove.Rig;

/// <summary>
/// Moves a <see cref="VirtualClock"/> on while a scenario waits: a long step when the local host has nothing ready or in
/// flight (all its work waits for a due time), a short one while it works (retries inside a delivery, HTTP backoffs),
/// well inside every timeout a request in flight has (30 s per ServiceNow attempt), so none is jumped past.
/// </summary>
internal sealed class TimeMachine(VirtualClock clock, InProcessLocalHost host)
{
    private static readonly TimeSpan IdleStep = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan BusyStep = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    /// <summary>One step, its length chosen by what the host is doing.</summary>
    public async Task StepAsync() => clock.Advance(await NextStepAsync());

    /// <summary>Lets <paramref name="span"/> of virtual time pass, in steps, the host working in between.</summary>
    public async Task PassAsync(TimeSpan span)
    {
        var end = clock.GetUtcNow() + span;
        while (clock.GetUtcNow() < end)
        {
            var step = await NextStepAsync();
            var left = end - clock.GetUtcNow();
            clock.Advance(step < left ? step : left);
            await Task.Delay(Pause);
        }
    }

    private async Task<TimeSpan> NextStepAsync()
    {
        return await host.IsWorkingAsync() ? BusyStep : IdleStep;
    }
}
