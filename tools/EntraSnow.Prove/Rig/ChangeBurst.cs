using System.Collections.Concurrent;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// Makes <c>changes</c> job-title changes in Graph across <c>users</c> users as fast as <c>workers</c> parallel callers
/// can, each user's changes in order (so Graph's final state is known). Graph notifies the local host of each; a
/// notification it did not acknowledge (host down) waits in the Graph emulator for <see cref="Stage"/>'s retry.
/// </summary>
internal sealed class ChangeBurst(Stage stage, string label, int changes, int users, int workers = 8)
{
    private readonly ConcurrentDictionary<string, byte> _touched = new(StringComparer.Ordinal);
    private int _made;
    private int _unacknowledged;

    public IReadOnlyCollection<string> Touched => [.. _touched.Keys];

    public int Made => Volatile.Read(ref _made);

    /// <summary>Notifications the host did not acknowledge when first sent (Graph retries them).</summary>
    public int Unacknowledged => Volatile.Read(ref _unacknowledged);

    /// <param name="at">Runs once, on the worker whose change is number <paramref name="atChange"/>, while the other workers go on.</param>
    public async Task RunAsync(int atChange = -1, Func<Task>? at = null, CancellationToken cancellationToken = default)
    {
        var targets = stage.UserIds.Take(users).ToArray();
        var fired = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < changes; i++)
            {
                var user = i % targets.Length;
                if (user % workers != worker)
                {
                    continue;
                }

                var made = Interlocked.Increment(ref _made);
                if (at is not null && made >= atChange && Interlocked.Exchange(ref fired, 1) == 0)
                {
                    await at();
                }

                _touched.TryAdd(targets[user], 0);
                if (!await stage.ChangeTitleAsync(targets[user], $"{label} {i}", cancellationToken))
                {
                    Interlocked.Increment(ref _unacknowledged);
                }
            }
        }, cancellationToken)));
    }
}
