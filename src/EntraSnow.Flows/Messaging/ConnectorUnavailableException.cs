namespace EntraSnow.Flows.Messaging;

/// <summary>
/// A connector as a whole cannot work (its credentials are refused, or no token can be had): not a fact about this
/// message. The message waits, its attempt uncounted, and the connector shows as paused in health until a message on
/// the same queue succeeds again. Handlers throw it (or let the connector's 401/403 through) for what a secret rotation
/// or a revoked consent causes.
/// </summary>
public class ConnectorUnavailableException : TransientFailureException
{
    public ConnectorUnavailableException(string connector, string reason, Exception? inner = null)
        : base($"{connector} is paused: {reason}", inner)
    {
        Connector = connector;
        Reason = reason;
    }

    /// <summary><c>graph</c> or <c>serviceNow</c>, as health names them.</summary>
    public string Connector { get; }

    public string Reason { get; }
}
