using System.Globalization;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>JSON batching (<c>$batch</c>): each item runs through the same dispatcher, and can be throttled on its own.</summary>
internal sealed partial class GraphApi
{
    /// <summary>JSON batching: up to 20 requests, answered in one response; each item can be throttled on its own.</summary>
    private async Task<GraphResponse> BatchAsync(GraphRequest r, CancellationToken ct)
    {
        var requests = RequireBody(r)["requests"] as JsonArray ?? throw new FormatException("A batch needs a 'requests' array.");
        if (requests.Count > BatchLimit)
        {
            return GraphResponse.Error(400, "BadRequest", $"Number of batch request steps exceeds the maximum value of {BatchLimit}.");
        }

        var responses = new JsonArray();
        foreach (var item in requests.OfType<JsonObject>())
        {
            var id = item["id"]?.GetValue<string>() ?? throw new FormatException("Every batch request needs an id.");
            var url = item["url"]?.GetValue<string>() ?? throw new FormatException("Every batch request needs a url.");
            var (path, query) = SplitBatchUrl(url);
            GraphResponse answer;
            if (emulator.Faults.Take(path, insideBatch: true) is { Kind: not GraphFaultKind.Latency } fault)
            {
                answer = FaultResponse(fault);
            }
            else
            {
                // Each request in a batch carries its own headers: ConsistencyLevel is not inherited from the batch.
                var consistency = (item["headers"] as JsonObject)?.FirstOrDefault(h => string.Equals(h.Key, "ConsistencyLevel", StringComparison.OrdinalIgnoreCase)).Value;
                answer = await HandleAsync(r with
                {
                    Method = item["method"]?.GetValue<string>() ?? "GET",
                    Path = path,
                    Query = query,
                    Body = item["body"]?.DeepClone(),
                    EventualConsistency = GraphEmulatorEndpoints.EventuallyConsistent(consistency?.GetValue<string>()),
                }, ct);
            }

            var headers = new JsonObject();
            if (answer.Body is not null)
            {
                headers["Content-Type"] = "application/json";
            }

            foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
            {
                headers[name] = value;
            }

            responses.Add(new JsonObject { ["id"] = id, ["status"] = answer.Status, ["headers"] = headers, ["body"] = answer.Body?.DeepClone() });
        }

        return GraphResponse.Json(new JsonObject { ["responses"] = responses });
    }

    internal static GraphResponse FaultResponse(GraphFault fault)
    {
        var headers = fault.RetryAfter is { } after
            ? new Dictionary<string, string> { ["Retry-After"] = ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture) }
            : null;
        return fault.Kind == GraphFaultKind.Throttle
            ? GraphResponse.Error(429, "TooManyRequests", "Too many requests.", headers)
            : GraphResponse.Error(503, "serviceNotAvailable", "The service is temporarily unavailable.", headers);
    }

    /// <summary>
    /// Batch URLs are relative to the version root ("/users/{id}?$select=…"). Some clients leave part of a longer base
    /// path in front, so everything up to the last "v1.0/" is dropped, and otherwise anything before a known root.
    /// </summary>
    private static (string Path, Dictionary<string, string> Query) SplitBatchUrl(string url)
    {
        var questionMark = url.IndexOf('?', StringComparison.Ordinal);
        var path = questionMark < 0 ? url : url[..questionMark];
        var version = path.LastIndexOf("v1.0/", StringComparison.OrdinalIgnoreCase);
        if (version >= 0)
        {
            path = path[(version + 5)..];
        }
        else
        {
            var segments = path.Trim('/').Split('/');
            var root = Array.FindIndex(segments, p => p.ToLowerInvariant() is "users" or "groups" or "subscriptions" or "identityprotection" or "$batch");
            path = string.Join('/', root < 0 ? segments : segments[root..]);
        }

        return (path, ParseQuery(questionMark < 0 ? "" : url[(questionMark + 1)..]));
    }

    internal static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            result[name] = value;
        }

        return result;
    }
}
