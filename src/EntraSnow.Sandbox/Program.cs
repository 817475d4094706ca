using EntraSnow.Sandbox;

// The sandbox on its own: both emulators in one process, under the same prefixes the local host uses.
//   dotnet run --project src/EntraSnow.Sandbox [-- serve] [--urls URLS]   http://127.0.0.1:7072 and https://127.0.0.1:7073
//   dotnet run --project src/EntraSnow.Sandbox -- seed [--users N] [--groups N]
//   dotnet run --project src/EntraSnow.Sandbox -- cert [--out PATH]       the HTTPS certificate as PEM, and how to trust it
return await SandboxCommandLine.Parse(args).RunAsync(Console.Out);
