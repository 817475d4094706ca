using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Provisioning;
using EntraSnow.LocalHost.Cli.Preflight;
using EntraSnow.LocalHost.Hosting;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// <c>doctor</c>: checks, one line each, that the configuration is valid, that Graph and ServiceNow answer with the
/// configured credentials, the pre-flight of an instance about to be adopted (the object id field, read and write
/// rights per table the enabled flows use, the Graph app roles in the token, the subscriptions' state), and explains
/// any connector the serving local host has paused. Exits non-zero when anything fails.
/// </summary>
internal static class DoctorCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        await using var scope = await CommandScope.OpenAsync(args);
        var services = scope.App.Services;
        var sandbox = services.GetRequiredService<SandboxMode>();
        var failures = 0;

        async Task Check(string what, Func<Task<string>> probe)
        {
            try
            {
                var detail = await probe();
                await output.WriteLineAsync($"  ok    {what}{(detail.Length > 0 ? $": {detail}" : "")}");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failures++;
                await output.WriteLineAsync($"  FAIL  {what}: {ex.Message}");
            }
        }

        await output.WriteLineAsync($"Sandbox: Graph {(sandbox.Graph ? "emulated" : "real tenant")}, ServiceNow {(sandbox.ServiceNow ? "emulated" : "real instance")}");
        // The emulators live inside the serving process: use the running one, or start this one for the checks.
        var url = services.GetRequiredService<IOptions<LocalHostOptions>>().Value.Url;
        var serving = await RunningLocalHost.IsServingAsync(url);
        var startHere = sandbox.Any && !serving;
        if (startHere)
        {
            await scope.App.StartAsync();
        }

        await Check("configuration", () =>
        {
            foreach (var validator in services.GetServices<IStartupValidator>())
            {
                validator.Validate();
            }

            return Task.FromResult("every section validates");
        });
        await Check("Graph: read users (User.Read.All)", async () =>
        {
            var directory = services.GetRequiredService<IDirectory>();
            await foreach (var page in directory.GetUsersDeltaAsync(null))
            {
                return $"{page.Items.Count} user(s) on the first delta page";
            }

            return "no users";
        });
        await Check("Graph: sign-in activity for the inactive sweep (Entra ID P1, AuditLog.Read.All)", () => InactiveSweepDoctor.ProbeSignInActivityAsync(services.GetRequiredService<IDirectory>()));
        foreach (var status in await services.GetRequiredService<ConnectorProbe>().ProbeAsync(CancellationToken.None))
        {
            var what = status.Name == "graph" ? "Graph: list subscriptions (Subscription management)" : "ServiceNow: read sys_user";
            await Check(what, () => status.Ok ? Task.FromResult(status.Detail) : throw new InvalidOperationException(status.Detail));
        }

        await Check("Graph: app roles in the token (roles claim) cover the enabled flows", () => new GraphPermissionsCheck(services).CheckAsync());
        try
        {
            foreach (var line in await new SubscriptionStateCheck(services, TimeProvider.System).CheckAsync(hostServing: serving))
            {
                if (line.Outcome == PreflightOutcome.Note)
                {
                    await output.WriteLineAsync($"  note  {line.What}: {line.Detail}");
                    continue;
                }

                await Check(line.What, () => line.Outcome == PreflightOutcome.Ok ? Task.FromResult(line.Detail) : throw new InvalidOperationException(line.Detail));
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await Check("Graph subscriptions", () => throw new InvalidOperationException($"not listed: {ex.Message}", ex));
        }

        var access = new ServiceNowTableAccessCheck(services);
        var roles = await access.RolesAsync();
        foreach (var use in access.Uses())
        {
            await Check($"ServiceNow: {use.Table} {(use.Writes ? "read and write" : "read")} ({string.Join(", ", use.Flows)})", () => access.CheckAsync(use, roles));
        }

        var objectIdField = new ObjectIdFieldCheck(services.GetRequiredService<IServiceNowTable>(), services.GetRequiredService<IOptions<ProvisioningOptions>>());
        foreach (var table in new[] { "sys_user", "sys_user_group" })
        {
            await Check($"ServiceNow: {table} has the Entra object id field (sys_dictionary)", async () =>
                await objectIdField.ProblemAsync(table) is { } problem ? throw new InvalidOperationException(problem) : services.GetRequiredService<IOptions<ProvisioningOptions>>().Value.ObjectIdField);
        }

        await Check("local queues", async () =>
        {
            var stats = await scope.Queues.GetStatsAsync();
            return $"{stats.Sum(s => s.Depth)} queued, {stats.Sum(s => s.DeadLettered)} dead-lettered";
        });

        if (startHere)
        {
            await scope.App.StopAsync();
        }
        else
        {
            foreach (var pause in await PausedConnectorsDoctor.ExplainAsync(url, DateTimeOffset.UtcNow))
            {
                failures++;
                await output.WriteLineAsync($"  FAIL  {pause}");
            }
        }

        await output.WriteLineAsync(failures == 0 ? "All checks passed." : $"{failures} check(s) failed.");
        return failures == 0 ? 0 : 1;
    }
}
