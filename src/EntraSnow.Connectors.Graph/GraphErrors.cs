using System.Globalization;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;

namespace EntraSnow.Connectors.Graph;

/// <summary>Turns what the SDK throws into the two exceptions the flows understand. Messages carry status and Graph's error code, never request bodies.</summary>
internal static class GraphErrors
{
    private static readonly HashSet<string> ExpiredDeltaCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "syncStateNotFound", "syncStateInvalid", "resyncRequired", "resyncRequiredReplaceWithEmpty", "resyncRequiredReplaceWithLocal",
    };

    public static async Task<T> RunAsync<T>(string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (Translate(operation, ex, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    public static async Task RunAsync(string operation, Func<Task> call, CancellationToken cancellationToken)
    {
        try
        {
            await call();
        }
        catch (Exception ex) when (Translate(operation, ex, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    public static bool IsNotFound(this GraphRequestException ex) => ex.StatusCode == 404;

    /// <summary>Delta tokens live about 7 days; Graph then answers 410 Gone / syncStateNotFound and expects a full resync.</summary>
    public static bool IsExpiredDelta(this GraphRequestException ex) =>
        ex.StatusCode == 410 || (ex.ErrorCode is { } code && ExpiredDeltaCodes.Contains(code));

    private static Exception? Translate(string operation, Exception ex, CancellationToken cancellationToken) => ex switch
    {
        GraphRequestException or GraphUnavailableException => null,
        ODataError odata => FromStatus(operation, odata.ResponseStatusCode, odata.Error?.Code, odata.Error?.Message, odata.ResponseHeaders, odata),
        ApiException api => FromStatus(operation, api.ResponseStatusCode, null, null, api.ResponseHeaders, api),
        HttpRequestException http => new GraphUnavailableException($"{operation}: Graph could not be reached ({http.HttpRequestError}).", http),
        TaskCanceledException timeout when !cancellationToken.IsCancellationRequested =>
            new GraphUnavailableException($"{operation}: Graph did not answer in time.", timeout),
        _ => null,
    };

    private static Exception FromStatus(string operation, int status, string? code, string? message, IDictionary<string, IEnumerable<string>>? headers, Exception inner)
    {
        var text = $"{operation}: Graph answered {status}{(code is null ? "" : $" {code}")}{(string.IsNullOrEmpty(message) ? "" : $" ({message})")}.";
        return status is 429 or 500 or 502 or 503 or 504
            ? new GraphUnavailableException(text, inner, RetryAfter(headers))
            : new GraphRequestException(text, status, code, inner);
    }

    private static TimeSpan? RetryAfter(IDictionary<string, IEnumerable<string>>? headers)
    {
        if (headers is null)
        {
            return null;
        }

        foreach (var (name, values) in headers)
        {
            if (name.Equals("Retry-After", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }
        }

        return null;
    }
}
