namespace EntraSnow.Connectors.Graph;

/// <summary>
/// Which directory audit entries to read: those naming <see cref="TargetId"/> among their target resources, performed
/// within [<see cref="From"/>, <see cref="To"/>], newest first, at most <see cref="MaxEntries"/> of them.
/// </summary>
public sealed record DirectoryAuditQuery(string TargetId, DateTimeOffset From, DateTimeOffset To, int MaxEntries);

/// <summary>An object an audited activity acted on (<c>targetResources</c>): a user, a group, an app.</summary>
public sealed record AuditTarget(string Id, string? Type, string? DisplayName, string? UserPrincipalName);

/// <summary>
/// One entry of the directory audit log (<c>auditLogs/directoryAudits</c>) as far as a membership change needs it: what
/// was done, when, to which objects, and who did it: a user (<see cref="UserPrincipalName"/>, <see cref="UserId"/>) or
/// an application (<see cref="AppDisplayName"/>, <see cref="AppId"/>).
/// </summary>
public sealed record DirectoryAuditEntry
{
    public required string Id { get; init; }

    /// <summary>e.g. <c>Add member to group</c>, <c>Remove member from group</c>.</summary>
    public string? Activity { get; init; }

    public DateTimeOffset ActivityDateTime { get; init; }

    /// <summary><c>success</c>, <c>failure</c>, <c>timeout</c>.</summary>
    public string? Result { get; init; }

    public IReadOnlyList<AuditTarget> Targets { get; init; } = [];

    public string? UserId { get; init; }

    public string? UserPrincipalName { get; init; }

    public string? UserDisplayName { get; init; }

    public string? AppId { get; init; }

    public string? AppDisplayName { get; init; }
}
