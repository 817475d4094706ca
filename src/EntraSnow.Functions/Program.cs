using EntraSnow.Functions;
using EntraSnow.Functions.Telemetry;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// The Functions host: ASP.NET Core integration for the HTTP functions, everything else is EntraSnow's composition,
// and its telemetry to Application Insights when the app has a connection string.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddEntraSnowFunctions(builder.Configuration);
builder.Services.AddEntraSnowTelemetry(builder.Configuration);
builder.Build().Run();
