using EntraSnow.Connectors.Graph;

namespace EntraSnow.Flows.InactiveSweep;

/// <summary>
/// Inactive accounts gathered across pages until there are enough to look up and raise together (reviewer details cost
/// one Graph call per <see cref="IDirectory.ReviewDetailsPerCall"/> accounts, whichever pages they came from). Remembers
/// where each page ended, so the sweep checkpoints only pages whose accounts have all been taken: a run cut off with
/// accounts still gathered resumes at the first page that had one. Holds at most one batch plus one page.
/// </summary>
internal sealed class GatheredAccounts
{
    private readonly List<(DirectoryUser User, SweepVerdict Verdict)> _accounts = [];
    private readonly HashSet<string> _ids = new(StringComparer.OrdinalIgnoreCase);

    // Per page read since the last checkpoint: how many accounts had been gathered in all when it ended, and its continuation.
    private readonly List<(long Through, string? Continuation)> _pageEnds = [];
    private long _gathered;
    private long _taken;

    public int Count => _accounts.Count;

    /// <summary>Adds a page's inactive accounts (one already gathered is not added twice) and notes where the page ended.</summary>
    public void AddPage(IEnumerable<(DirectoryUser User, SweepVerdict Verdict)> inactive, string? continuation)
    {
        foreach (var account in inactive)
        {
            if (_ids.Add(account.User.Id))
            {
                _accounts.Add(account);
                _gathered++;
            }
        }

        // A page that added nothing completes together with the one before it: keep only the later continuation.
        if (_pageEnds.Count > 0 && _pageEnds[^1].Through == _gathered)
        {
            _pageEnds.RemoveAt(_pageEnds.Count - 1);
        }

        _pageEnds.Add((_gathered, continuation));
    }

    /// <summary>The first <paramref name="count"/> accounts gathered, which the caller now raises.</summary>
    public IReadOnlyList<(DirectoryUser User, SweepVerdict Verdict)> Take(int count)
    {
        var taken = _accounts.GetRange(0, Math.Min(count, _accounts.Count));
        _accounts.RemoveRange(0, taken.Count);
        foreach (var (user, _) in taken)
        {
            _ids.Remove(user.Id);
        }

        _taken += taken.Count;
        return taken;
    }

    /// <summary>
    /// Once the accounts taken so far are raised: the continuation after the last page all of whose accounts were taken,
    /// if a page completed since the last call (a null continuation is the end of the directory).
    /// </summary>
    public bool TryCompletePages(out string? continuation)
    {
        var completed = _pageEnds.FindLastIndex(p => p.Through <= _taken);
        continuation = completed < 0 ? null : _pageEnds[completed].Continuation;
        if (completed >= 0)
        {
            _pageEnds.RemoveRange(0, completed + 1);
        }

        return completed >= 0;
    }
}
