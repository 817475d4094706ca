namespace EntraSnow.Connectors.Graph;

/// <summary>What the inactive-account sweep asks Graph for. <see cref="ExtraSelect"/> adds attributes the caller's rules read.</summary>
public sealed record InactiveCandidateQuery(DateTimeOffset SignedInBefore, DateTimeOffset CreatedBefore)
{
    public IReadOnlyList<string> ExtraSelect { get; init; } = [];
}

/// <summary>One page of candidates. <see cref="Continuation"/> resumes after this page; null once both passes are done.</summary>
public sealed record InactiveCandidatePage(IReadOnlyList<DirectoryUser> Users, string? Continuation);

/// <summary>What a reviewer needs besides the account itself. <see cref="GroupCount"/> counts direct memberships (groups and roles).</summary>
public sealed record ReviewDetails(string UserId, string? ManagerId, string? ManagerName, int GroupCount);
