using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using EntraSnow.Connectors.Graph;

namespace EntraSnow.Flows.FullSync.DryRun;

/// <summary>
/// The Entra ID port of a dry run: every read (<c>Get…</c>) goes to Graph, anything else (removing a member under the
/// sensitive-group policy, say) is recorded and not sent. A proxy rather than a hand-written decorator, so a read the
/// port gains later passes through and a write it gains later is held back without anyone remembering to add it.
/// Also notes the names of the users and groups it reads, for the report.
/// A dry run reads Entra ID in pages, not one user a request, as the real sync does: the dry run's walk is from scratch,
/// so each user's <c>user.sync</c> carries the user as the page said it (<see cref="PageSnapshot"/>) and its handler reads
/// no user of its own.
/// </summary>
public class DryRunDirectory : DispatchProxy
{
    private IDirectory _directory = null!;
    private DryRunServiceNowTable _writes = null!;
    private ConcurrentDictionary<string, string> _names = null!;

    /// <param name="names">Object id to UPN or display name, filled as users and groups are read.</param>
    public static IDirectory Create(IDirectory directory, DryRunServiceNowTable writes, ConcurrentDictionary<string, string> names)
    {
        var proxy = Create<IDirectory, DryRunDirectory>();
        var self = (DryRunDirectory)(object)proxy;
        self._directory = directory;
        self._writes = writes;
        self._names = names;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (!targetMethod.Name.StartsWith("Get", StringComparison.Ordinal))
        {
            return Hold(targetMethod, args ?? []);
        }

        object? result;
        try
        {
            result = targetMethod.Invoke(_directory, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }

        return result switch
        {
            Task<DirectoryUser?> user => NoteAsync(user),
            IAsyncEnumerable<DeltaPage<DirectoryUser>> users => NoteAsync(users, u => u.Id, u => u.UserPrincipalName),
            IAsyncEnumerable<DeltaPage<DirectoryGroup>> groups => NoteAsync(groups, g => g.Id, g => g.DisplayName),
            _ => result,
        };
    }

    private object Hold(MethodInfo method, object?[] args)
    {
        // Arguments are recorded by name; a password never is.
        var parameters = method.GetParameters();
        var recorded = parameters.Select((p, i) => (p, Value: args.ElementAtOrDefault(i)))
            .Where(a => a.p.ParameterType != typeof(CancellationToken) && !a.p.Name!.Contains("password", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(a => a.p.Name!, a => a.Value?.ToString(), StringComparer.Ordinal);
        _writes.RecordDirectoryWrite(method.Name.Replace("Async", string.Empty, StringComparison.Ordinal), args.FirstOrDefault()?.ToString() ?? string.Empty, recorded);
        if (method.ReturnType == typeof(Task))
        {
            return Task.CompletedTask;
        }

        if (method.ReturnType == typeof(Task<bool>))
        {
            return Task.FromResult(true);
        }

        throw new NotSupportedException($"A dry run cannot stand in for {method.Name}: it writes to Entra ID and returns what only the write can tell.");
    }

    private async Task<DirectoryUser?> NoteAsync(Task<DirectoryUser?> read)
    {
        var user = await read;
        if (user?.UserPrincipalName is { Length: > 0 } name)
        {
            _names[user.Id] = name;
        }

        return user;
    }

    private async IAsyncEnumerable<DeltaPage<T>> NoteAsync<T>(IAsyncEnumerable<DeltaPage<T>> pages, Func<T, string> id, Func<T, string?> name,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var page in pages.WithCancellation(cancellationToken))
        {
            foreach (var item in page.Items)
            {
                if (name(item) is { Length: > 0 } known)
                {
                    _names[id(item)] = known;
                }
            }

            yield return page;
        }
    }
}
