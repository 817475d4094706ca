namespace EntraSnow.Flows.FullSync.DryRun;

public enum PlannedOperation
{
    Create,
    Update,
    Delete,

    /// <summary>A write to Entra ID (a group membership the sensitive-group policy would take out, say).</summary>
    Directory,
}

/// <summary>A write a dry run held back: what the real run would have sent.</summary>
/// <param name="Target">The table (or, for <see cref="PlannedOperation.Directory"/>, the Graph call).</param>
/// <param name="SysId">The record written; a created record gets a stand-in id (<see cref="DryRunServiceNowTable.NewIdPrefix"/>).</param>
/// <param name="Fields">The fields the write would carry.</param>
/// <param name="Before">The record's values of those fields before it, where the dry run read them.</param>
public sealed record PlannedWrite(PlannedOperation Operation, string Target, string SysId, IReadOnlyDictionary<string, string?> Fields,
    IReadOnlyDictionary<string, string?> Before);
