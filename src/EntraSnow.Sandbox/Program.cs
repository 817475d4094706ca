// Standalone sandbox: both emulators in one process (wired up in the integration step).
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/", () => "EntraSnow sandbox");
app.Run();
