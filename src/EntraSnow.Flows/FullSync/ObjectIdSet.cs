namespace EntraSnow.Flows.FullSync;

/// <summary>
/// The Entra object ids a full sync's walk saw, for its orphan sweep. Object ids are GUIDs, kept as 16 bytes rather
/// than 36-character strings (about 24 bytes an id instead of about 120: 100,000 users in under 3 MB); any other id
/// is kept as it is. Case-insensitive, as Entra's ids are.
/// </summary>
internal sealed class ObjectIdSet
{
    private readonly HashSet<Guid> _guids = [];
    private readonly HashSet<string> _others = new(StringComparer.OrdinalIgnoreCase);

    public int Count => _guids.Count + _others.Count;

    /// <summary>Adds the id; false when it was already there.</summary>
    public bool Add(string id) => Guid.TryParseExact(id, "D", out var guid) ? _guids.Add(guid) : _others.Add(id);
}
