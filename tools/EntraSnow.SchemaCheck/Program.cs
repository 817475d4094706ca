using EntraSnow.SchemaCheck;

// Usage: dotnet run --project tools/EntraSnow.SchemaCheck [-- <schemas folder>]
// The schemas folder defaults to ../shared/schemas beside the repository (where CI places shared/).
var root = FindRepositoryRoot(Directory.GetCurrentDirectory()) ?? FindRepositoryRoot(AppContext.BaseDirectory);
if (root is null)
{
    Console.Error.WriteLine("schema check: EntraSnowFunctions.sln not found above the working folder; run it from the repository.");
    return 2;
}

var schemas = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine(root, "..", "shared", "schemas"));
if (!Directory.Exists(schemas))
{
    // In CI a missing folder means the run proved nothing: fail loudly. On a developer's clone, say so and stop.
    if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
    {
        Console.Error.WriteLine($"schema check FAILED: {schemas} does not exist; CI must place shared/ (with schemas/) beside the clone.");
        return 1;
    }

    Console.WriteLine($"schema check not run: {schemas} does not exist (outside CI this is only a notice).");
    return 0;
}

var checks = new (string File, string Schema, Func<string, string> ToJson)[]
{
    ("azure.yaml", "azure.yaml.json", yaml => YamlJson.Convert(yaml)!.ToJsonString()),
    ("host.json", "host.json", json => json),
    ("local.settings.sample.json", "local.settings.json", json => json),
};

var failures = 0;
foreach (var (file, schema, toJson) in checks)
{
    var schemaPath = Path.Combine(schemas, schema);
    if (!File.Exists(schemaPath))
    {
        Console.Error.WriteLine($"schema check FAILED: {file}: schema {schemaPath} does not exist.");
        failures++;
        continue;
    }

    var errors = await SchemaValidation.ErrorsAsync(schemaPath, toJson(await File.ReadAllTextAsync(Path.Combine(root, file))));
    if (errors.Count == 0)
    {
        Console.WriteLine($"schema check: {file} is valid against {schema}");
        continue;
    }

    failures++;
    Console.Error.WriteLine($"schema check FAILED: {file} against {schema}:");
    foreach (var error in errors)
    {
        Console.Error.WriteLine($"  {error}");
    }
}

return failures == 0 ? 0 : 1;

static string? FindRepositoryRoot(string start)
{
    for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "EntraSnowFunctions.sln")))
        {
            return dir.FullName;
        }
    }

    return null;
}
