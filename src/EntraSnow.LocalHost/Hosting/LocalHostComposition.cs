namespace EntraSnow.LocalHost.Hosting;

/// <summary>Wires the connectors, the flows and (in sandbox mode) the emulators into the local host.</summary>
internal static class LocalHostComposition
{
    public static void AddFlowsAndConnectors(WebApplicationBuilder builder, SandboxMode sandbox)
    {
        _ = builder;
        _ = sandbox;
    }

    public static void MapSandbox(WebApplication app, SandboxMode sandbox)
    {
        _ = app;
        _ = sandbox;
    }
}
