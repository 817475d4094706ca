using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Functions.Tests.WorkerProtocol;

/// <summary>
/// Plays the Azure Functions host for the built app: serves the FunctionRpc event stream over HTTP/2 on loopback, starts
/// the app as the host starts a worker (the same command-line arguments and FUNCTIONS_WORKER_DIRECTORY), then
/// init → metadata → load. Tests invoke functions through it: timers by an InvocationRequest, HTTP functions by an
/// InvocationRequest plus the HTTP request forwarded to the worker's own listener with the invocation id header, as the
/// host does for the ASP.NET Core integration. Like the host, it also takes HTTP requests for the app on its own
/// listener (<c>/api/{route}</c>, where Graph's handshakes arrive). What the worker reaches is on loopback
/// (<see cref="LoopbackAzure"/>).
/// </summary>
public sealed class FunctionsHostFixture : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly HostSideEventStream _stream = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _workerOutput = new();
    private readonly TaskCompletionSource<StartStream> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _host = null!;
    private LoopbackAzure? _azure;
    private Process? _worker;
    private Task _dispatch = Task.CompletedTask;

    /// <summary>The app's build output, where the host would find it (functions.metadata, the app, worker.config.json).</summary>
    public static string AppDirectory { get; } = typeof(FunctionsHostFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "FunctionsAppDirectory").Value!;

    /// <summary>Settings the worker gets as app settings (environment variables, <c>__</c> for <c>:</c>).</summary>
    public Dictionary<string, string?> Settings { get; private set; } = [];

    /// <summary>Service Bus, Table storage, Graph and ServiceNow as the worker reaches them.</summary>
    internal LoopbackAzure Azure => _azure ?? throw new InvalidOperationException("The fixture has not started.");

    public string WorkerId { get; } = Guid.NewGuid().ToString();

    public WorkerInitResponse InitResponse { get; private set; } = null!;

    public FunctionMetadataResponse Metadata { get; private set; } = null!;

    public List<FunctionLoadResponse> LoadResponses { get; } = [];

    /// <summary>The worker's ASP.NET Core listener, which it announces in the init response's HttpUri capability.</summary>
    public Uri HttpUri { get; private set; } = null!;

    /// <summary>The RpcLog messages and console output the worker produced, for failure messages.</summary>
    public ConcurrentQueue<RpcLog> Logs { get; } = new();

    public string WorkerOutput => string.Join('\n', _workerOutput);

    /// <summary>The fixture's HTTP/1.1 loopback listener: the host's public side, where <c>/api/{route}</c> reaches the app.</summary>
    public Uri LoopbackHttpUri { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = null);
        builder.Services.AddSingleton(_stream);
        _host = builder.Build();
        _host.MapGrpcService<HostSideFunctionRpc>();
        _host.Map("/api/{**route}", (HttpContext context, string route) => HostFrontDoor.ForwardAsync(this, context, route));
        await _host.StartAsync();
        var addresses = _host.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        var grpcUri = new Uri(addresses[0]);
        LoopbackHttpUri = new Uri(addresses[1].TrimEnd('/') + "/");
        _azure = await LoopbackAzure.StartAsync();
        Settings = _azure.Settings(LoopbackHttpUri);

        _dispatch = Task.Run(DispatchAsync);
        StartWorker(grpcUri);

        var start = await Wait(_started.Task, "the worker's StartStream");
        Assert.Equal(WorkerId, start.WorkerId);

        InitResponse = (await RequestAsync(new StreamingMessage
        {
            WorkerInitRequest = new WorkerInitRequest
            {
                HostVersion = "4.1040.0",
                FunctionAppDirectory = AppDirectory,
                WorkerDirectory = AppDirectory,
                Capabilities = { ["RpcHttpBodyOnly"] = "true", ["TypedDataCollection"] = "true", ["HandlesWorkerTerminateMessage"] = "true" },
            },
        }, "the init response")).WorkerInitResponse;
        if (InitResponse.Result.Status != StatusResult.Types.Status.Success)
        {
            return;
        }

        HttpUri = new Uri(InitResponse.Capabilities["HttpUri"]);
        Metadata = (await RequestAsync(new StreamingMessage
        {
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = AppDirectory },
        }, "the function metadata")).FunctionMetadataResponse;

        // One load request per function, as the host sends them to the .NET isolated worker.
        foreach (var function in Metadata.FunctionMetadataResults)
        {
            LoadResponses.Add((await RequestAsync(new StreamingMessage { FunctionLoadRequest = LoadRequest(function) }, $"the load response for {function.Name}")).FunctionLoadResponse);
        }
    }

    public string FunctionId(string name) =>
        Metadata.FunctionMetadataResults.SingleOrDefault(f => f.Name == name)?.FunctionId
        ?? throw new InvalidOperationException($"The worker reported no function named '{name}'.");

    /// <summary>Invokes a function the way the host does for a trigger that carries its data in the invocation request.</summary>
    public async Task<InvocationResponse> InvokeAsync(string functionName, params ParameterBinding[] inputs)
    {
        var request = new InvocationRequest { InvocationId = Guid.NewGuid().ToString(), FunctionId = FunctionId(functionName), TraceContext = TraceContext() };
        request.InputData.AddRange(inputs);
        return (await RequestAsync(new StreamingMessage { InvocationRequest = request }, $"the invocation response of {functionName}")).InvocationResponse;
    }

    /// <summary>Invokes a timer function as the host does when its schedule fires: the timer's state as JSON.</summary>
    public Task<InvocationResponse> InvokeTimerAsync(string functionName) =>
        InvokeAsync(functionName, new ParameterBinding
        {
            Name = "timer",
            Data = new TypedData { Json = """{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}""" },
        });

    /// <summary>
    /// Invokes an HTTP function as the host does with the ASP.NET Core integration: an InvocationRequest for the function
    /// and the HTTP request itself forwarded to the worker's listener, tied together by the x-ms-invocation-id header.
    /// </summary>
    public async Task<(HttpResponseMessage Http, InvocationResponse Invocation)> SendHttpAsync(string functionName, HttpRequestMessage request)
    {
        var invocationId = Guid.NewGuid().ToString();
        request.RequestUri = new Uri(HttpUri, request.RequestUri!.OriginalString.TrimStart('/'));
        var invocation = new InvocationRequest { InvocationId = invocationId, FunctionId = FunctionId(functionName), TraceContext = TraceContext() };
        invocation.InputData.Add(new ParameterBinding
        {
            Name = "request",
            Data = new TypedData { Http = new RpcHttp { Method = request.Method.Method, Url = request.RequestUri.AbsoluteUri } },
        });
        var answered = RequestAsync(new StreamingMessage { InvocationRequest = invocation }, $"the invocation response of {functionName}");

        using var http = new HttpClient { Timeout = Patience };
        request.Headers.Add("x-ms-invocation-id", invocationId);
        var response = await http.SendAsync(request);
        return (response, (await answered).InvocationResponse);
    }

    /// <summary>The W3C trace context the host passes with every invocation (the worker's activity continues it).</summary>
    private static RpcTraceContext TraceContext() =>
        new() { TraceParent = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01", TraceState = string.Empty };

    public string Describe(StatusResult result) =>
        $"{result.Status}: {result.Result} {result.Exception?.Message}\n{result.Exception?.StackTrace}\n--- worker logs ---\n{string.Join('\n', Logs.Select(l => $"[{l.Level}] {l.Category}: {l.Message} {l.Exception?.Message}"))}\n--- worker output ---\n{WorkerOutput}";

    private void StartWorker(Uri grpcUri)
    {
        var requestId = Guid.NewGuid().ToString();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     Path.Combine(AppDirectory, "EntraSnow.Functions.dll"),
                     "--host", grpcUri.Host, "--port", grpcUri.Port.ToString(CultureInfo.InvariantCulture), "--workerId", WorkerId,
                     "--requestId", requestId, "--grpcMaxMessageLength", int.MaxValue.ToString(CultureInfo.InvariantCulture),
                     "--functions-uri", grpcUri.AbsoluteUri, "--functions-worker-id", WorkerId, "--functions-request-id", requestId,
                     "--functions-grpc-max-message-length", int.MaxValue.ToString(CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = AppDirectory;
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = AppDirectory;
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["AZURE_FUNCTIONS_ENVIRONMENT"] = "Development";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        _worker = Process.Start(start) ?? throw new InvalidOperationException("Could not start the Functions app.");
        _worker.OutputDataReceived += (_, e) => Remember(e.Data);
        _worker.ErrorDataReceived += (_, e) => Remember(e.Data);
        _worker.BeginOutputReadLine();
        _worker.BeginErrorReadLine();
        _worker.EnableRaisingEvents = true;
        _worker.Exited += (_, _) => _started.TrySetException(new InvalidOperationException($"The Functions app exited with {_worker.ExitCode} before opening the event stream:\n{WorkerOutput}"));
    }

    private void Remember(string? line)
    {
        if (line is not null && _workerOutput.Count < 2000)
        {
            _workerOutput.Enqueue(line);
        }
    }

    private async Task DispatchAsync()
    {
        await foreach (var message in _stream.FromWorker.Reader.ReadAllAsync())
        {
            switch (message.ContentCase)
            {
                case StreamingMessage.ContentOneofCase.StartStream:
                    _started.TrySetResult(message.StartStream);
                    break;
                case StreamingMessage.ContentOneofCase.RpcLog:
                    Logs.Enqueue(message.RpcLog);
                    break;
                case StreamingMessage.ContentOneofCase.InvocationResponse:
                    Complete(message.InvocationResponse.InvocationId, message);
                    break;
                default:
                    Complete(message.RequestId, message);
                    break;
            }
        }

        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(new InvalidOperationException($"The worker closed the event stream.\n{WorkerOutput}"));
        }
    }

    private void Complete(string key, StreamingMessage message)
    {
        if (_pending.TryRemove(key, out var waiter))
        {
            waiter.TrySetResult(message);
        }
    }

    private async Task<StreamingMessage> RequestAsync(StreamingMessage message, string what)
    {
        message.RequestId = Guid.NewGuid().ToString();
        var key = message.ContentCase == StreamingMessage.ContentOneofCase.InvocationRequest ? message.InvocationRequest.InvocationId : message.RequestId;
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[key] = answer;
        await _stream.ToWorker.Writer.WriteAsync(message);
        return await Wait(answer.Task, what);
    }

    private async Task<T> Wait<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No {what} from the worker within {Patience.TotalSeconds} s.\n{WorkerOutput}");
        }
    }

    /// <summary>The load request the host builds from the worker's own metadata (worker indexing).</summary>
    private static FunctionLoadRequest LoadRequest(RpcFunctionMetadata metadata)
    {
        var load = new RpcFunctionMetadata
        {
            Name = metadata.Name,
            FunctionId = metadata.FunctionId,
            Directory = AppDirectory,
            ScriptFile = metadata.ScriptFile,
            EntryPoint = metadata.EntryPoint,
            Language = metadata.Language,
        };
        foreach (var raw in metadata.RawBindings)
        {
            var binding = JsonNode.Parse(raw)!;
            load.Bindings[(string)binding["name"]!] = new BindingInfo
            {
                Type = (string)binding["type"]!,
                Direction = ((string)binding["direction"]!).ToLowerInvariant() switch
                {
                    "in" => BindingInfo.Types.Direction.In,
                    "out" => BindingInfo.Types.Direction.Out,
                    _ => BindingInfo.Types.Direction.Inout,
                },
            };
        }

        return new FunctionLoadRequest { FunctionId = metadata.FunctionId, Metadata = load };
    }

    public async Task DisposeAsync()
    {
        if (_worker is { HasExited: false })
        {
            await _stream.ToWorker.Writer.WriteAsync(new StreamingMessage
            {
                WorkerTerminate = new WorkerTerminate { GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) },
            });
            try
            {
                await _worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                _worker.Kill(entireProcessTree: true);
            }
        }

        _worker?.Dispose();
        _stream.ToWorker.Writer.TryComplete();
        await _host.StopAsync();
        await _host.DisposeAsync();
        if (_azure is not null)
        {
            await _azure.DisposeAsync();
        }
    }

    internal static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
