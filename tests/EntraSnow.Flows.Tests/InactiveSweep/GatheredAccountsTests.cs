using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.InactiveSweep;

namespace EntraSnow.Flows.Tests.InactiveSweep;

/// <summary>
/// Accounts gathered across pages: a page is checkpointed only once every account it brought has been taken to be
/// raised, so a run cut off with accounts still gathered resumes at the first page that had one.
/// </summary>
public sealed class GatheredAccountsTests
{
    private static IEnumerable<(DirectoryUser, SweepVerdict)> Accounts(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => (new DirectoryUser { Id = $"{prefix}{i}" }, SweepVerdict.NotSignedInSince));

    [Fact]
    public void A_page_completes_only_once_all_its_accounts_are_taken()
    {
        var gathered = new GatheredAccounts();
        gathered.AddPage(Accounts("a", 100), "after-1");
        gathered.AddPage(Accounts("b", 100), "after-2");

        var first = gathered.Take(150);
        var firstCompleted = gathered.TryCompletePages(out var afterFirst);
        gathered.AddPage(Accounts("c", 100), "after-3");
        var second = gathered.Take(150);
        var secondCompleted = gathered.TryCompletePages(out var afterSecond);

        Assert.Equal(150, first.Count);
        Assert.True(firstCompleted);
        Assert.Equal("after-1", afterFirst);
        Assert.Equal(150, second.Count);
        Assert.True(secondCompleted);
        Assert.Equal("after-3", afterSecond);
        Assert.Equal(0, gathered.Count);
    }

    [Fact]
    public void Nothing_completes_while_the_first_page_still_has_accounts_waiting()
    {
        var gathered = new GatheredAccounts();
        gathered.AddPage(Accounts("a", 100), "after-1");
        gathered.AddPage([], "after-2");

        gathered.Take(99);

        Assert.False(gathered.TryCompletePages(out _));
        Assert.Equal(1, gathered.Count);
    }

    [Fact]
    public void Pages_without_accounts_complete_with_the_accounts_before_them_and_the_end_is_a_null_continuation()
    {
        var gathered = new GatheredAccounts();
        gathered.AddPage([], "after-1");
        Assert.True(gathered.TryCompletePages(out var afterEmpty));

        gathered.AddPage(Accounts("a", 10), "after-2");
        gathered.AddPage([], "after-3");
        gathered.AddPage([], null);
        gathered.Take(10);

        Assert.Equal("after-1", afterEmpty);
        Assert.True(gathered.TryCompletePages(out var atEnd));
        Assert.Null(atEnd);
    }

    [Fact]
    public void An_account_listed_on_two_pages_is_gathered_once()
    {
        var gathered = new GatheredAccounts();
        gathered.AddPage(Accounts("a", 3), "after-1");
        gathered.AddPage(Accounts("a", 5), "after-2");

        var taken = gathered.Take(150);

        Assert.Equal(["a0", "a1", "a2", "a3", "a4"], taken.Select(t => t.User.Id));
        Assert.True(gathered.TryCompletePages(out var after));
        Assert.Equal("after-2", after);
    }
}
