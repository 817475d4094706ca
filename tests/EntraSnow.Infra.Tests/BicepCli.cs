using System.Diagnostics;

namespace EntraSnow.Infra.Tests;

/// <summary>The Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 NuGet package; nothing is downloaded at test time.</summary>
internal static class BicepCli
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static string ExecutablePath
    {
        get
        {
            var path = Repository.Metadata("BicepPath");
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"Bicep CLI not found at {path}; restore EntraSnow.Infra.Tests.");
            }

            // NuGet may extract the binary without the execute bit.
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }

            return path;
        }
    }

    public static Task<Result> RunAsync(params string[] arguments) => RunAsync(Repository.PathOf("infra"), input: null, arguments);

    /// <summary>
    /// <c>bicep console</c> in <paramref name="workingDirectory"/> fed <paramref name="input"/>: each line a declaration or an
    /// expression, each expression's value (or why it could not be had) printed in turn, by the same engine ARM deploys with.
    /// </summary>
    public static Task<Result> ConsoleAsync(string workingDirectory, string input) => RunAsync(workingDirectory, input, "console");

    private static async Task<Result> RunAsync(string workingDirectory, string? input, params string[] arguments)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No telemetry and no update checks: the suite runs offline.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("bicep did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await error);
    }
}
