using System.Collections;

namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// One Table API record, field name to value. Reference fields hold the referenced sys_id whichever shape
/// ServiceNow sent (<c>{link,value}</c>, display-value forms, or <c>""</c> for unset); their display values,
/// when asked for, are in <see cref="DisplayValues"/>.
/// </summary>
public sealed class ServiceNowRecord : IReadOnlyDictionary<string, string?>
{
    private readonly Dictionary<string, string?> _values;

    public ServiceNowRecord(IDictionary<string, string?> values, IDictionary<string, string?>? displayValues = null)
    {
        _values = new Dictionary<string, string?>(values, StringComparer.Ordinal);
        DisplayValues = new Dictionary<string, string?>(displayValues ?? new Dictionary<string, string?>(), StringComparer.Ordinal);
    }

    public string SysId => _values.TryGetValue("sys_id", out var id) && id is not null ? id : string.Empty;

    public IReadOnlyDictionary<string, string?> DisplayValues { get; }

    public string? this[string key] => _values.TryGetValue(key, out var v) ? v : null;

    public IEnumerable<string> Keys => _values.Keys;

    public IEnumerable<string?> Values => _values.Values;

    public int Count => _values.Count;

    public bool ContainsKey(string key) => _values.ContainsKey(key);

    public bool TryGetValue(string key, out string? value) => _values.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, string?>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
