namespace EntraSnow.Flows.Provisioning;

/// <summary>One step of a user's provisioning (user, scope, mapping, references, match, write), as "Provision on demand" shows it.</summary>
public sealed record ProvisioningStep(string Name, string Detail);

/// <summary>
/// The steps of the provisioning that runs in the caller's async flow, for a caller that asked to see them
/// (<see cref="ProvisionOnDemand"/>). The handlers are singletons shared by every consumer, so the listener travels
/// with the call (an AsyncLocal) rather than through them; with nobody listening a step costs nothing.
/// </summary>
public static class ProvisioningTrace
{
    private static readonly AsyncLocal<Action<ProvisioningStep>?> Listener = new();

    /// <summary>Steps taken in this async flow go to <paramref name="listener"/> until the result is disposed.</summary>
    public static IDisposable Listen(Action<ProvisioningStep> listener)
    {
        var previous = Listener.Value;
        Listener.Value = listener;
        return new Restore(previous);
    }

    internal static bool Active => Listener.Value is not null;

    internal static void Step(string name, string detail) => Listener.Value?.Invoke(new ProvisioningStep(name, detail));

    /// <summary>For details that cost something to put together: built only when someone listens.</summary>
    internal static void Step(string name, Func<string> detail)
    {
        if (Listener.Value is { } listener)
        {
            listener(new ProvisioningStep(name, detail()));
        }
    }

    private sealed class Restore(Action<ProvisioningStep>? previous) : IDisposable
    {
        public void Dispose() => Listener.Value = previous;
    }
}
