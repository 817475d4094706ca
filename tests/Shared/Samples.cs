namespace EntraSnow.Tests.Shared;

/// <summary>The payload samples in ../shared/graph-samples (the repository's sibling folder, as CI clones it).</summary>
internal static class Samples
{
    public const string ClientState = "secretClientStateValue";

    public static string GraphSample(string name) => File.ReadAllText(Path.Combine(SharedFolder(), "graph-samples", name));

    public static byte[] GraphSampleBytes(string name) => File.ReadAllBytes(Path.Combine(SharedFolder(), "graph-samples", name));

    public static string SharedFolder()
    {
        // The repository root the test project was built from (see its csproj), else walk up from the binaries.
        var root = typeof(Samples).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        var dir = new DirectoryInfo(root is not null && File.Exists(Path.Combine(root, "EntraSnowFunctions.sln")) ? root : AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EntraSnowFunctions.sln")))
        {
            dir = dir.Parent;
        }

        var shared = dir is null ? null : Path.Combine(dir.FullName, "..", "shared");
        return shared is not null && Directory.Exists(shared)
            ? shared
            : throw new DirectoryNotFoundException("../shared (the design samples) was not found beside the repository.");
    }
}
