namespace EntraSnow.Connectors.ServiceNow;

/// <summary>A ServiceNow call failed. Messages carry ServiceNow's error.message/detail, never credentials.</summary>
public class ServiceNowException : Exception
{
    public ServiceNowException(string message, int? statusCode = null, string? detail = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
        Detail = detail;
    }

    public int? StatusCode { get; }

    public string? Detail { get; }

    /// <summary>True when waiting and trying again may succeed (outage, throttling).</summary>
    public virtual bool IsTransient => false;
}

/// <summary>A reference value (department, location, manager…) has no record in ServiceNow. The Entra provisioning service calls this InvalidLookupReference.</summary>
public sealed class ServiceNowReferenceMissingException(string table, string field, string value)
    : ServiceNowException($"No {table} record has {field} '{value}' (InvalidLookupReference).")
{
    public string Table { get; } = table;
    public string Field { get; } = field;
    public string Value { get; } = value;
}

/// <summary>The matching attribute is empty, so the record cannot be joined. The Entra provisioning service calls this EntryJoiningPropertyValueIsMissing.</summary>
public sealed class ServiceNowMatchingValueMissingException(string table, string keyField)
    : ServiceNowException($"The matching value for {table}.{keyField} is empty (EntryJoiningPropertyValueIsMissing).");

/// <summary>401: the credentials were refused.</summary>
public sealed class ServiceNowUnauthorizedException(string message, string? detail = null)
    : ServiceNowException(message, 401, detail);

/// <summary>403: an ACL forbids the call for this account.</summary>
public sealed class ServiceNowForbiddenException(string message, string? detail = null)
    : ServiceNowException(message, 403, detail);

/// <summary>The instance did not answer, answered 5xx past the retries, or the circuit is open.</summary>
public sealed class ServiceNowUnreachableException(string message, Exception? inner = null, int? statusCode = null)
    : ServiceNowException(message, statusCode, null, inner)
{
    public override bool IsTransient => true;
}

/// <summary>429 for longer than the connector is willing to wait.</summary>
public sealed class ServiceNowRateLimitedException(string message, TimeSpan? retryAfter)
    : ServiceNowException(message, 429)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
    public override bool IsTransient => true;
}

/// <summary>Any other 4xx: not retried; carries ServiceNow's error.message and error.detail.</summary>
public sealed class ServiceNowRequestException(string message, int statusCode, string? detail)
    : ServiceNowException(message, statusCode, detail);
