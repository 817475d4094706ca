using Microsoft.AspNetCore.Http;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// Record-level ACLs, for trying what one forbidden record does to a run: a Table API call whose path or query names a
/// denied value (an object id, a sys_id) answers 403, as an instance does when an ACL protects that record.
/// </summary>
public sealed class ServiceNowRecordAcl
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _denied = new(StringComparer.OrdinalIgnoreCase);

    public void Deny(string value)
    {
        lock (_gate)
        {
            _denied.Add(value);
        }
    }

    public void Allow(string value)
    {
        lock (_gate)
        {
            _denied.Remove(value);
        }
    }

    internal bool Denies(HttpRequest request)
    {
        lock (_gate)
        {
            if (_denied.Count == 0)
            {
                return false;
            }

            var asked = $"{request.Path}?{Uri.UnescapeDataString(request.QueryString.Value ?? string.Empty)}";
            return _denied.Any(value => asked.Contains(value, StringComparison.OrdinalIgnoreCase));
        }
    }
}
