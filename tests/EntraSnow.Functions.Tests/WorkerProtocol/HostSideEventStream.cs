using System.Threading.Channels;
using Grpc.Core;

namespace EntraSnow.Functions.Tests.WorkerProtocol;

/// <summary>
/// The host's end of the FunctionRpc event stream the worker opens: what the worker sends lands in
/// <see cref="FromWorker"/>, what the fixture writes to <see cref="ToWorker"/> goes down the stream.
/// </summary>
internal sealed class HostSideEventStream
{
    public Channel<StreamingMessage> FromWorker { get; } = Channel.CreateUnbounded<StreamingMessage>();

    public Channel<StreamingMessage> ToWorker { get; } = Channel.CreateUnbounded<StreamingMessage>();
}

/// <summary>The FunctionRpc service as the Functions host serves it: one bidirectional stream per worker.</summary>
internal sealed class HostSideFunctionRpc(HostSideEventStream stream) : FunctionRpc.FunctionRpcBase
{
    public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
    {
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var send = Task.Run(async () =>
        {
            await foreach (var message in stream.ToWorker.Reader.ReadAllAsync(writing.Token))
            {
                await responseStream.WriteAsync(message, writing.Token);
            }
        }, writing.Token);

        try
        {
            await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await stream.FromWorker.Writer.WriteAsync(message, context.CancellationToken);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The worker went away: the fixture sees the stream end.
        }
        finally
        {
            stream.FromWorker.Writer.TryComplete();
            await writing.CancelAsync();
        }

        try
        {
            await send;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
