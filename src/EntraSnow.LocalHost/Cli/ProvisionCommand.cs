using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// <c>provision &lt;upn|object-id&gt;</c>: one user through provisioning now, printing each step (user, scope, mapping,
/// references, match, write) and the decision, like the Entra admin center's "Provision on demand". Exit code 1 when the
/// user is unknown, in conflict or failed.
/// </summary>
internal static class ProvisionCommand
{
    public const string UsageLine = "usage: provision <user principal name | object id> [--Setting:Name=value ...]";

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var who = args.FirstOrDefault(a => !a.StartsWith('-'));
        if (who is null)
        {
            await output.WriteLineAsync(UsageLine);
            return 2;
        }

        await using var scope = await CommandScope.OpenAsync(args.Where(a => a != who).ToArray());
        await using var emulators = await ServedEmulators.EnsureAsync(scope);
        await output.WriteLineAsync($"Provisioning {who} on demand");
        var number = 0;
        var result = await scope.App.Services.GetRequiredService<ProvisionOnDemand>()
            .RunAsync(who, step => output.WriteLine($" {++number,2}. {step.Name,-10} {step.Detail}"));
        if (result.User is null)
        {
            await output.WriteLineAsync($"error: {result.Error}");
            return 1;
        }

        if (result.Decision is { } decision)
        {
            var target = decision.TargetSysId is null ? string.Empty : $" (sys_user {decision.TargetSysId})";
            var fields = decision.ChangedFields.Count == 0 ? string.Empty : $" [{string.Join(", ", decision.ChangedFields)}]";
            var reason = string.IsNullOrEmpty(decision.Reason) ? string.Empty : $" — {decision.Reason}";
            await output.WriteLineAsync($"Result: {ProvisioningLogEntry.ActionName(decision.Action)}{target}{fields}{reason}");
        }

        if (result.Error is not null && result.Decision is not { Action: ProvisioningAction.Failed })
        {
            await output.WriteLineAsync($"Result: failed — {result.Error}");
        }

        return result.Succeeded ? 0 : 1;
    }
}
