namespace EntraSnow.Flows.Messaging;

/// <summary>
/// Which handled messages make earlier ones about the same object redundant. A <c>user.updated</c> handler reads the
/// user's current state from Graph and takes nothing else from the message, so one run covers every <c>user.updated</c>
/// about that user that was already waiting when it started: a consumer may complete those with it (one Graph read for
/// several notifications). Intake dedupes only proven repeats; this is where cheap repeats are absorbed.
/// </summary>
public static class MessageCoalescing
{
    public static bool CoversEarlierOfItsKind(ChangeMessage handled) => handled.Kind == MessageKinds.UserUpdated;
}
