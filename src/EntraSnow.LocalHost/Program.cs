using EntraSnow.LocalHost.Cli;

// dotnet run --project src/EntraSnow.LocalHost [-- command [options]]; commands: serve (default), queues, deadletters, sync, log, doctor.
return await LocalHostCommandLine.RunAsync(args);
