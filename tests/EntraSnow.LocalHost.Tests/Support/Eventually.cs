using System.Diagnostics;

namespace EntraSnow.LocalHost.Tests.Support;

/// <summary>
/// Waits for a condition that background consumers make true, checking it often and failing with a message after a
/// deadline. No fixed sleep: the test goes on the moment the condition holds.
/// </summary>
public static class Eventually
{
    public static async Task AssertAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (deadline.Elapsed > limit)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:0} s waiting for: {what}");
            }

            await Task.Delay(25);
        }
    }

    public static Task AssertAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        AssertAsync(() => Task.FromResult(condition()), what, timeout);
}
