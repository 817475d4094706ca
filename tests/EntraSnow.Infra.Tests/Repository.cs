using System.Reflection;

namespace EntraSnow.Infra.Tests;

/// <summary>Where the files under test are: the repository root (found by walking up to the solution).</summary>
internal static class Repository
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string ReadText(params string[] parts) => File.ReadAllText(PathOf(parts));

    public static string Metadata(string key) =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"Assembly metadata '{key}' is missing: see EntraSnow.Infra.Tests.csproj.");

    private static string FindRoot()
    {
        // The project directory is baked in at build time, so builds with --artifacts-path elsewhere still find the sources.
        foreach (var start in new[] { Metadata("ProjectDirectory"), AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "EntraSnowFunctions.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("EntraSnowFunctions.sln not found above the test project.");
    }
}
