using System.Runtime.CompilerServices;

namespace EntraSnow.Flows.InactiveSweep;

internal static class ReadAhead
{
    /// <summary>
    /// The same items, the next one already being read while the caller works on the one it was given: at most two are
    /// held. If the caller stops early (an error, a cancellation), the read under way is let finish before the source is
    /// disposed, and its own error, if any, is dropped: the caller's is the one that counts.
    /// </summary>
    public static async IAsyncEnumerable<T> ReadingAhead<T>(this IAsyncEnumerable<T> source, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var items = source.GetAsyncEnumerator(cancellationToken);
        var reading = items.MoveNextAsync().AsTask();
        try
        {
            while (await reading)
            {
                var item = items.Current;
                reading = items.MoveNextAsync().AsTask();
                yield return item;
            }
        }
        finally
        {
            // An async enumerator must not be disposed while a MoveNextAsync is still running.
            await ((Task)reading).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
