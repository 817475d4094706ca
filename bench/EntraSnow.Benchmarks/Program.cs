using System.Reflection;
using EntraSnow.Benchmarks;
using Spectre.Console;

// Finds every IBenchmark in this assembly, so each benchmark is one file and nothing else changes to add one.
var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

var chosen = args.Length > 0 ? benchmarks.FirstOrDefault(b => b.Name == args[0]) : null;
if (chosen is null)
{
    if (args.Length > 0)
    {
        Console.Error.WriteLine($"unknown benchmark '{args[0]}'");
    }

    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/EntraSnow.Benchmarks -- <benchmark> [options]");
    foreach (var b in benchmarks)
    {
        Console.Error.WriteLine($"  {b.Name,-24} {b.Description}");
        Console.Error.WriteLine($"  {"",-24} {string.Join(' ', b.Options)}");
    }

    return args.Length == 0 ? 0 : 2;
}

if (!BenchmarkArguments.TryParse(args[1..], chosen.Options, out var arguments, out var error))
{
    Console.Error.WriteLine($"{chosen.Name}: {error}");
    Console.Error.WriteLine($"usage: dotnet run -c Release --project bench/EntraSnow.Benchmarks -- {chosen.Name} {string.Join(' ', chosen.Options)}");
    return 2;
}

// Redirected output (CI logs, BENCHMARKS.md) gets wide tables instead of an 80-column fallback.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 160;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
return await chosen.RunAsync(arguments, cts.Token);
