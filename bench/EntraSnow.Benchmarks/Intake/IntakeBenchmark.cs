using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Queueing;
using Spectre.Console;

namespace EntraSnow.Benchmarks.Intake;

/// <summary>
/// Drives POST /api/graph/notifications on the local host over loopback and, in the same run, a bare endpoint that
/// answers 202 without doing anything, so the cost of validating and durably queueing is a ratio, not a guess; then the
/// signed ServiceNow webhook (POST /api/servicenow/password-reset: HMAC check, time window, the request id remembered
/// in the durable replay store, the queue write). Checks at the end that every acknowledged request is in its queue.
/// </summary>
internal sealed class IntakeBenchmark : IBenchmark
{
    public string Name => "intake";

    public string Description => "requests/s and p50/p99 acknowledgement latency, local host (Graph notifications, signed ServiceNow webhooks) vs a bare 202 endpoint";

    private const string ClientState = "benchmark-client-state-value";
    private const string SigningSecret = "benchmark-webhook-signing-secret-of-enough-length";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--seconds", 30), BenchmarkOption.Number("--concurrency", 32)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var seconds = arguments.Number("--seconds");
        var concurrency = arguments.Number("--concurrency");
        var dataPath = Path.Combine(Path.GetTempPath(), "entrasnow-bench", Guid.NewGuid().ToString("N"));
        var hostUrl = $"http://127.0.0.1:{FreePort()}";
        var bareUrl = $"http://127.0.0.1:{FreePort()}";

        await using var host = LocalHostApp.Build(
        [
            $"--LocalHost:Url={hostUrl}", $"--LocalHost:DataPath={dataPath}", "--LocalHost:RunConsumers=false", "--LocalHost:RunTimers=false",
            "--Sandbox:Seed:Users=0", "--Sandbox:Seed:InitialSync=false",
            $"--Graph:ClientState={ClientState}", $"--ServiceNowWebhook:SigningSecret={SigningSecret}", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
        ]);
        await host.StartAsync(cancellationToken);

        var bareBuilder = WebApplication.CreateSlimBuilder();
        bareBuilder.WebHost.UseUrls(bareUrl);
        bareBuilder.Logging.ClearProviders();
        await using var bare = bareBuilder.Build();
        bare.MapPost("/api/graph/notifications", async (HttpRequest request) =>
        {
            // Read the body as the real endpoint does, then answer: the floor of what any intake can cost here.
            await request.Body.CopyToAsync(Stream.Null);
            return Results.Accepted();
        });
        await bare.StartAsync(cancellationToken);

        AnsiConsole.MarkupLine($"[bold]intake[/]: {seconds} s per target, {concurrency} concurrent connections, {Environment.ProcessorCount} cores, load generated in-process");
        var warmup = TimeSpan.FromSeconds(Math.Min(3, seconds));
        await LoadAsync(bareUrl, concurrency, warmup, 0, GraphNotification, cancellationToken);
        await LoadAsync(hostUrl, concurrency, warmup, 1, GraphNotification, cancellationToken);
        await LoadAsync(hostUrl, concurrency, warmup, 2, SignedWebhook, cancellationToken);
        var queues = host.Services.GetRequiredService<SqliteQueueStore>();
        async Task<long> DepthAsync(string queue) => (await queues.GetStatsAsync(cancellationToken)).Single(s => s.Queue == queue).Depth;
        var before = await DepthAsync(QueueNames.UserChanges);
        var resetsBefore = await DepthAsync(QueueNames.PasswordResets);

        var bareResult = await LoadAsync(bareUrl, concurrency, TimeSpan.FromSeconds(seconds), 3, GraphNotification, cancellationToken);
        var hostResult = await LoadAsync(hostUrl, concurrency, TimeSpan.FromSeconds(seconds), 4, GraphNotification, cancellationToken);
        var signedResult = await LoadAsync(hostUrl, concurrency, TimeSpan.FromSeconds(seconds), 5, SignedWebhook, cancellationToken);

        var queued = await DepthAsync(QueueNames.UserChanges) - before;
        var resetsQueued = await DepthAsync(QueueNames.PasswordResets) - resetsBefore;
        var table = new Table().AddColumns("target", "requests", "errors", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms");
        foreach (var (label, r) in new[] { ("bare 202", bareResult), ("local host, Graph notifications", hostResult), ("local host, signed ServiceNow webhook", signedResult) })
        {
            table.AddRow(label, r.Count.ToString(CultureInfo.InvariantCulture), r.Errors.ToString(CultureInfo.InvariantCulture), F(r.Throughput),
                F(r.Percentile(50)), F(r.Percentile(90)), F(r.Percentile(99)), F(r.Percentile(100)));
        }

        AnsiConsole.Write(table);
        foreach (var (label, r, durable) in new[] { ("Graph notifications", hostResult, queued), ("signed webhooks", signedResult, resetsQueued) })
        {
            var acknowledged = r.Count - r.Errors;
            var met = r.Throughput >= 5000 && r.Percentile(99) < 20;
            AnsiConsole.MarkupLine($"{label}: throughput ratio to bare [bold]{r.Throughput / bareResult.Throughput:0.00}[/], p99 ratio [bold]{r.Percentile(99) / bareResult.Percentile(99):0.00}[/]; " +
                $"acknowledged {acknowledged}, durably queued {durable}: {(durable == acknowledged ? "[green]all[/]" : "[red]MISSING[/]")}; " +
                $"target (>= 5,000/s with p99 < 20 ms): {(met ? "[green]met[/]" : "[yellow]not met[/]")}");
        }

        await host.StopAsync(CancellationToken.None);
        await bare.StopAsync(CancellationToken.None);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TryDelete(dataPath);
        return queued == hostResult.Count - hostResult.Errors && resetsQueued == signedResult.Count - signedResult.Errors ? 0 : 1;
    }

    /// <summary>A Graph change notification about user <paramref name="id"/>, with the right clientState.</summary>
    private static HttpRequestMessage GraphNotification(Guid id) => new(HttpMethod.Post, "/api/graph/notifications")
    {
        Content = Json(NotificationTemplate.Replace("{userId}", id.ToString(), StringComparison.Ordinal)),
    };

    /// <summary>
    /// A password-reset webhook for ticket <paramref name="id"/>, signed as the ServiceNow app signs it (a fresh request
    /// id each time, so the replay store remembers every one; a distinct ticket, so none is a duplicate).
    /// </summary>
    private static HttpRequestMessage SignedWebhook(Guid id)
    {
        var sysId = id.ToString("N");
        var body = $"{{\"table\":\"sc_req_item\",\"sys_id\":\"{sysId}\",\"number\":\"RITM{sysId[..7]}\",\"requested_for\":\"{sysId}\",\"requested_by\":\"{sysId}\"}}";
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/servicenow/password-reset") { Content = Json(body) };
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.RequestIdHeader, Guid.NewGuid().ToString());
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(SigningSecret, timestamp, Encoding.UTF8.GetBytes(body)));
        return request;
    }

    private static ByteArrayContent Json(string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private sealed record LoadResult(long Count, long Errors, double Seconds, double[] LatenciesMs)
    {
        public double Throughput => Count / Seconds;

        public double Percentile(double p)
        {
            if (LatenciesMs.Length == 0)
            {
                return double.NaN;
            }

            var index = (int)Math.Ceiling(p / 100 * LatenciesMs.Length) - 1;
            return LatenciesMs[Math.Clamp(index, 0, LatenciesMs.Length - 1)];
        }
    }

    /// <summary>Closed loop: each connection posts its next notification as soon as the previous one is answered.</summary>
    private static async Task<LoadResult> LoadAsync(string baseUrl, int concurrency, TimeSpan duration, int round, Func<Guid, HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var latencies = new List<double>(1 << 16);
            long errors = 0;
            var sequence = 0;
            while (stopwatch.Elapsed < duration && !cancellationToken.IsCancellationRequested)
            {
                // A distinct subject per request: every request is a real queue write, none is a duplicate.
                var id = new Guid(round * 1_000_000 + worker, (short)(sequence >> 16), (short)sequence, new byte[8]);
                sequence++;
                using var message = request(id);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(message, cancellationToken);
                    if (response.StatusCode != HttpStatusCode.Accepted)
                    {
                        errors++;
                    }
                }
                catch (HttpRequestException)
                {
                    errors++;
                }

                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            return (latencies, errors);
        }, cancellationToken)).ToArray();
        var results = await Task.WhenAll(workers);
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var all = results.SelectMany(r => r.latencies).ToArray();
        Array.Sort(all);
        return new LoadResult(all.Length, results.Sum(r => r.errors), elapsed, all);
    }

    private static readonly string NotificationTemplate = $$"""
        {"value":[{"changeType":"updated","clientState":"{{ClientState}}","resource":"Users/{userId}",
        "resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/{userId}","id":"{userId}",
        "organizationId":"b7a9c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d","eventTime":"2026-11-20T09:14:31.3062901Z","sequenceNumber":638678480202455800},
        "subscriptionExpirationDateTime":"2026-12-18T09:00:00.0000000+00:00","subscriptionId":"5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
        "tenantId":"b7a9c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d"}]}
        """;

    private static string F(double value) => value.ToString(value >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
