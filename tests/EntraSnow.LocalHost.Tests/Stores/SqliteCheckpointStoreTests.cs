using EntraSnow.LocalHost.Stores;
using EntraSnow.LocalHost.Tests.Support;

namespace EntraSnow.LocalHost.Tests.Stores;

public sealed class SqliteCheckpointStoreTests : IDisposable
{
    private readonly string _data = LocalHostHarness.NewDataPath();

    public void Dispose() => LocalHostHarness.TryDelete(_data);

    [Fact]
    public async Task Checkpoints_written_at_once_are_all_kept_replace_older_values_and_outlive_the_store()
    {
        var path = Path.Combine(_data, "checkpoints.db");
        var store = new SqliteCheckpointStore(path);
        await store.SetAsync("groupmember:g:m0000", "out:2");
        var values = Enumerable.Range(0, 2_500).Select(i => KeyValuePair.Create($"groupmember:g:m{i:D4}", "in:1")).ToList();

        await store.SetManyAsync(values);

        var reopened = new SqliteCheckpointStore(path);
        var listed = await reopened.ListAsync("groupmember:g:").ToListAsync();
        Assert.Equal(values.Select(v => v.Key), listed.Select(c => c.Key));
        Assert.All(listed, c => Assert.Equal("in:1", c.Value));
    }
}
