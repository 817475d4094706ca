namespace EntraSnow.LocalHost.Cli;

/// <summary>Commands that belong to flows (sync, log, doctor), registered by name.</summary>
internal static class LocalHostExtraCommands
{
    public static Func<string[], TextWriter, Task<int>>? TryGet(string verb) => verb switch
    {
        _ => null,
    };
}
