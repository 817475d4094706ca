using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Amqp;
using Amqp.Framing;
using Amqp.Listener;

namespace EntraSnow.Functions.Tests.ServiceBusAmqp;

/// <summary>
/// A loopback AMQP 1.0 endpoint that answers the Service Bus SDK as a namespace does, for the parts our queue port uses:
/// the <c>MSSBCBS</c> SASL mechanism, tokens put on <c>$cbs</c>, a sender link per queue (single and batched
/// transfers), and the queue's <c>$management</c> node for <c>com.microsoft:schedule-message</c>. It keeps what
/// arrived, as Service Bus would hold it, for the test to read. Plain AMQP on 127.0.0.1, which the SDK uses for a
/// connection string with <c>UseDevelopmentEmulator=true</c>.
/// </summary>
internal sealed class LoopbackServiceBus : IDisposable
{
    private readonly ContainerHost _host;
    private readonly HashSet<string> _queues;
    private long _sequenceNumber;

    public LoopbackServiceBus(IEnumerable<string> queues, uint maxMessageSize = 256 * 1024)
    {
        _queues = new HashSet<string>(queues, StringComparer.Ordinal);
        MaxMessageSize = maxMessageSize;
        Port = FreePort();
        _host = new ContainerHost(new Address($"amqp://127.0.0.1:{Port}"));
        _host.Listeners[0].SASL.EnableMechanism(CbsSaslProfile.Name, new CbsSaslProfile());
        _host.AddressResolver = (_, attach) => NodeOf(attach);
        _host.RegisterRequestProcessor(CbsNode.Address, new CbsNode(this));
        foreach (var queue in _queues)
        {
            _host.RegisterRequestProcessor(ManagementNode.AddressOf(queue), new ManagementNode(this, queue));
        }

        _host.RegisterLinkProcessor(new QueueLinks(this));
        _host.Open();
    }

    public int Port { get; }

    /// <summary>The largest message (or batch) a queue's sender link accepts, as a namespace announces on attach.</summary>
    public uint MaxMessageSize { get; }

    public string ConnectionString =>
        $"Endpoint=sb://127.0.0.1:{Port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=not-a-secret;UseDevelopmentEmulator=true";

    /// <summary>Every message a queue holds, in arrival order (scheduled ones with their enqueue time).</summary>
    public ConcurrentQueue<HeldMessage> Messages { get; } = new();

    /// <summary>How many transfers each queue's sender link carried (a batch is one transfer).</summary>
    public ConcurrentDictionary<string, int> Transfers { get; } = new(StringComparer.Ordinal);

    /// <summary>While set, every transfer to a queue is rejected, as by a namespace that does not accept writes.</summary>
    public bool Refusing { get; set; }

    /// <summary>The audiences the client put tokens on <c>$cbs</c> for.</summary>
    public ConcurrentQueue<string> TokenAudiences { get; } = new();

    public IReadOnlyList<HeldMessage> In(string queue) => Messages.Where(m => m.Queue == queue).ToList();

    internal void Hold(string queue, Message message, DateTimeOffset? scheduledFor) =>
        Messages.Enqueue(HeldMessage.From(queue, message, Interlocked.Increment(ref _sequenceNumber), scheduledFor));

    internal long LastSequenceNumber => Interlocked.Read(ref _sequenceNumber);

    internal bool IsQueue(string address) => _queues.Contains(address);

    /// <summary>The node an attach is for: its address without scheme, host or leading slash (the SDK sends <c>/queue</c>).</summary>
    private static string? NodeOf(Attach attach)
    {
        var address = attach.Role ? (attach.Source as Source)?.Address : (attach.Target as Target)?.Address;
        if (address is null)
        {
            return null;
        }

        return Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" or "sb"
            ? uri.AbsolutePath.Trim('/')
            : address.TrimStart('/');
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose() => _host.Close();

    /// <summary>A queue's sender links: every transfer is held (a batch's messages one by one) and accepted.</summary>
    private sealed class QueueLinks(LoopbackServiceBus bus) : ILinkProcessor
    {
        public void Process(AttachContext attachContext)
        {
            var queue = NodeOf(attachContext.Attach);
            if (attachContext.Link.Role && queue is not null && bus.IsQueue(queue))
            {
                attachContext.Attach.MaxMessageSize = bus.MaxMessageSize;
                attachContext.Complete(new TargetLinkEndpoint(new QueueNode(bus, queue), attachContext.Link), 300);
                return;
            }

            attachContext.Complete(new Error(ErrorCode.NotFound) { Description = $"No messaging entity '{queue}' on this loopback namespace." });
        }
    }

    private sealed class QueueNode(LoopbackServiceBus bus, string queue) : IMessageProcessor
    {
        public int Credit => 300;

        public void Process(MessageContext messageContext)
        {
            bus.Transfers.AddOrUpdate(queue, 1, (_, n) => n + 1);
            if (bus.Refusing)
            {
                messageContext.Complete(new Error(ErrorCode.NotAllowed) { Description = $"'{queue}' does not accept messages now." });
                return;
            }

            foreach (var message in BatchedMessages.Unpack(messageContext.Message))
            {
                bus.Hold(queue, message, scheduledFor: null);
            }

            messageContext.Complete();
        }
    }
}
