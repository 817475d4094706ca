using System.Globalization;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

// The sandbox on its own: both emulators in one process, under the same prefixes the local host uses.
//   dotnet run --project src/EntraSnow.Sandbox                        serve on http://127.0.0.1:7072
//   dotnet run --project src/EntraSnow.Sandbox -- seed [--users N] [--groups N]
//                                                                     seed Graph users/groups and ServiceNow reference data
var command = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "serve";
var options = args.Where(a => a != command).ToArray();
var builder = WebApplication.CreateBuilder(options);
var dataPath = builder.Configuration["Sandbox:DataPath"] ?? Path.Combine(".entrasnow", "sandbox");
Directory.CreateDirectory(dataPath);
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://127.0.0.1:7072");
builder.Services.AddGraphEmulator(o => o.DatabasePath = Path.Combine(dataPath, "graph.db"));
builder.Services.AddServiceNowEmulator(o => o.DatabasePath = Path.Combine(dataPath, "servicenow.db"));
var app = builder.Build();
app.MapGraphEmulator("/sandbox/graph");
app.MapServiceNowEmulator("/sandbox/servicenow");

switch (command)
{
    case "serve":
        await app.RunAsync();
        return 0;
    case "seed":
        var spec = new GraphSeedSpec
        {
            Users = IntOption("--users", 100),
            Groups = IntOption("--groups", 10),
        };
        var graph = app.Services.GetRequiredService<GraphEmulator>().Seed(spec);
        Console.WriteLine($"Graph: {graph.UserIds.Count} users, {graph.GroupIds.Count} groups, {graph.Memberships} memberships, {graph.RiskDetections} risk detections");
        var serviceNow = ServiceNowSeed.SeedReferenceData(app.Services.GetRequiredService<ServiceNowEmulatorStore>());
        Console.WriteLine($"ServiceNow: {serviceNow.Departments} departments, {serviceNow.Locations} locations, {serviceNow.Groups} groups");
        return 0;
    default:
        Console.Error.WriteLine($"Unknown command '{command}'. Commands: serve (default), seed [--users N] [--groups N].");
        return 2;
}

int IntOption(string name, int fallback)
{
    var i = Array.IndexOf(options, name);
    return i >= 0 && i + 1 < options.Length && int.TryParse(options[i + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
