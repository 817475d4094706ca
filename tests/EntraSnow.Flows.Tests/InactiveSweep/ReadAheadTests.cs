using EntraSnow.Flows.InactiveSweep;

namespace EntraSnow.Flows.Tests.InactiveSweep;

/// <summary>
/// The sweep reads Graph's next page while it raises the accounts of the one it has: a page source that only hands out
/// page 2 once the caller has started on page 1 shows the overlap (without it, the test would wait for ever and fail at
/// its timeout).
/// </summary>
public sealed class ReadAheadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_next_page_is_read_while_the_caller_works_on_the_one_before()
    {
        var secondRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstWorkedOn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new List<int>();

        async IAsyncEnumerable<int> Pages()
        {
            yield return 1;
            secondRequested.SetResult();
            // Page 2 arrives only once the caller is busy with page 1: a caller that reads one page at a time never gets it.
            await firstWorkedOn.Task.WaitAsync(Patience);
            yield return 2;
        }

        await foreach (var page in Pages().ReadingAhead())
        {
            if (page == 1)
            {
                await secondRequested.Task.WaitAsync(Patience);
                firstWorkedOn.SetResult();
            }

            seen.Add(page);
        }

        Assert.Equal([1, 2], seen);
    }

    [Fact]
    public async Task A_caller_that_fails_mid_page_reports_its_own_error_after_the_read_under_way_has_ended()
    {
        var readEnded = false;
        var sourceDisposed = false;

        async IAsyncEnumerable<int> Pages()
        {
            try
            {
                yield return 1;
                await Task.Yield();
                readEnded = true;
                throw new InvalidOperationException("Graph failed reading page 2");
            }
            finally
            {
                sourceDisposed = true;
            }
        }

        var error = await Assert.ThrowsAsync<TimeoutException>(async () =>
        {
            await foreach (var page in Pages().ReadingAhead())
            {
                throw new TimeoutException($"ServiceNow timed out raising page {page}");
            }
        });

        Assert.Equal("ServiceNow timed out raising page 1", error.Message);
        Assert.True(readEnded, "the read of page 2 ended before the pages were let go");
        Assert.True(sourceDisposed, "the page source was disposed");
    }
}
