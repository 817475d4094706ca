using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace EntraSnow.Benchmarks.Risk;

/// <summary>
/// Sees each risk detection land in ServiceNow: a middleware in front of the local host's ServiceNow emulator reads every
/// successful POST / PATCH on the incident table and notes, per detection marker (<c>[entra-risk {id} {state} …]</c>) in
/// its work notes, when that write was answered. Watching the answers instead of polling the table costs the run nothing.
/// </summary>
internal sealed partial class IncidentWriteWatch : IStartupFilter
{
    private readonly ConcurrentDictionary<(string Detection, string State), long> _written = new();

    /// <summary>Stopwatch timestamp of the first answered write carrying the detection's marker in that state.</summary>
    public long? WrittenAt(string detectionId, string state) => _written.TryGetValue((detectionId, state), out var at) ? at : null;

    public int Count => _written.Count;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, proceed) =>
        {
            var request = context.Request;
            if (!HttpMethods.IsPost(request.Method) && !HttpMethods.IsPatch(request.Method)
                || !request.Path.StartsWithSegments("/sandbox/servicenow/api/now/table/incident", StringComparison.Ordinal))
            {
                await proceed();
                return;
            }

            request.EnableBuffering();
            var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
            request.Body.Position = 0;
            await proceed();
            if (context.Response.StatusCode is >= 200 and < 300)
            {
                var now = Stopwatch.GetTimestamp();
                foreach (Match marker in Marker().Matches(body))
                {
                    _written.TryAdd((marker.Groups[1].Value, marker.Groups[2].Value), now);
                }
            }
        });
        next(app);
    };

    [GeneratedRegex(@"\[entra-risk (\S+) (\S+) ")]
    private static partial Regex Marker();
}
