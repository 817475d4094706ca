using Amqp;
using Amqp.Sasl;
using Amqp.Types;

namespace EntraSnow.Functions.Tests.ServiceBusAmqp;

/// <summary>
/// The server side of the <c>MSSBCBS</c> SASL mechanism the Service Bus SDK asks for: the client claims nothing in SASL
/// and proves itself afterwards with a token on the <c>$cbs</c> node, so the mechanism is answered Ok at once.
/// </summary>
internal sealed class CbsSaslProfile() : SaslProfile(Name)
{
    public static readonly Symbol Name = new("MSSBCBS");

    protected override ITransport UpgradeTransport(ITransport transport) => transport;

    protected override DescribedList GetStartCommand(string hostname) => null!;

    protected override DescribedList OnCommand(DescribedList command) => new SaslOutcome { Code = SaslCode.Ok };
}
