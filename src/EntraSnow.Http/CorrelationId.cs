using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace EntraSnow.Http;

/// <summary>
/// The correlation id that follows a request into its queue messages and every log line after: the caller's
/// <c>client-request-id</c> or <c>x-correlation-id</c> when it is sane, else the trace id, else a new one.
/// </summary>
public static class CorrelationId
{
    public static string From(HttpRequest request)
    {
        foreach (var header in new[] { "x-correlation-id", "client-request-id", "request-id" })
        {
            var value = request.Headers[header].ToString();
            if (value.Length is > 0 and <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return value;
            }
        }

        return Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N");
    }
}
