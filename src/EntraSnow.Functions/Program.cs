using EntraSnow.Functions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// The Functions host: ASP.NET Core integration for the HTTP functions, everything else is EntraSnow's composition.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddEntraSnowFunctions(builder.Configuration);
builder.Build().Run();
