using System.Globalization;
using System.Text.Json;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.LocalHost.Hosting;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace EntraSnow.LocalHost.Cli;

/// <summary>
/// <c>sweep [--dry-run] [--json]</c>: the inactive-account sweep, now. A dry run reads Graph and ServiceNow and prints
/// what would be raised (a table, or JSON) and writes nothing; without it the sweep runs with a progress line. In
/// sandbox mode the emulators live in the serving process: a running local host is used, else this one serves them.
/// </summary>
internal static class SweepCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var dryRun = LocalHostCommandLine.Flag(args, "--dry-run");
        var json = LocalHostCommandLine.Flag(args, "--json");
        await using var scope = await CommandScope.OpenAsync(args.Where(a => a != "--dry-run").ToArray());
        var services = scope.App.Services;
        await using var emulators = await ServedEmulators.EnsureAsync(scope);
        try
        {
            var runner = services.GetRequiredService<InactiveSweepRunner>();
            var accounts = new List<InactiveAccount>();
            var progress = new SweepProgressLine(json ? TextWriter.Null : output);
            var report = await runner.RunAsync(new SweepRunRequest
            {
                DryRun = dryRun,
                OnRaised = a =>
                {
                    lock (accounts)
                    {
                        accounts.Add(a);
                    }
                },
                OnProgress = dryRun ? null : progress.Draw,
            });
            if (json)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(Json(report, accounts), LocalHostCommandLine.WebJson));
                return 0;
            }

            if (dryRun)
            {
                WriteTable(accounts, report, output);
            }
            else
            {
                await output.WriteLineAsync();
            }

            await output.WriteLineAsync(Totals(report));
            return 0;
        }
        catch (MissingAssignmentGroupException ex)
        {
            await output.WriteLineAsync(ex.Message);
            return 3;
        }
    }

    private static void WriteTable(List<InactiveAccount> accounts, SweepReport report, TextWriter output)
    {
        if (accounts.Count == 0)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow;
        var table = new Table().AddColumns("account", "why", "last sign-in", "created", "manager", "licences", "groups");
        foreach (var a in accounts.OrderBy(a => a.Name, StringComparer.OrdinalIgnoreCase))
        {
            table.AddRow(Markup.Escape(a.Name), Markup.Escape(a.Reason(now)), a.LastSignInText, a.CreatedText, Markup.Escape(a.ManagerText),
                Markup.Escape(a.Licences.Count == 0 ? "none" : string.Join(", ", a.Licences)),
                a.Details?.GroupCount.ToString(CultureInfo.InvariantCulture) ?? "?");
        }

        table.Caption($"review cycle {report.Cycle}");
        var terminal = LocalHostCommandLine.Terminal(output);
        // Seven columns: redirected output (80 columns by default) would wrap every cell.
        terminal.Profile.Width = Math.Max(terminal.Profile.Width, 160);
        terminal.Write(table);
    }

    private static string Totals(SweepReport report)
    {
        var excluded = report.Excluded.Count == 0
            ? "none"
            : string.Join(", ", report.Excluded.OrderBy(e => e.Key).Select(e => $"{Label(e.Key)} {e.Value}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"{(report.DryRun ? "Would raise" : "Raised")} {report.Raised} review(s) for cycle {report.Cycle}; {report.AlreadyRaised} already raised this cycle; " +
            $"{report.Candidates} candidate(s) read in {report.Pages} page(s); left out: {excluded}; " +
            $"{report.Closed} open review(s) {(report.DryRun ? "would be " : "")}closed after a new sign-in; " +
            $"{report.Disabled} account(s) {(report.DryRun ? "would be " : "")}disabled after review{(report.Refused > 0 ? $" ({report.Refused} break-glass review(s) refused)" : "")}" +
            $"{(report.DisableFailed > 0 ? $"; Graph refused to disable {report.DisableFailed} (tried again at the next run, see the log)" : "")}." +
            $"{(report.DryRun ? " Nothing was written." : "")}");
    }

    private static string Label(SweepVerdict verdict) => verdict switch
    {
        SweepVerdict.BreakGlass => "break-glass",
        SweepVerdict.ServiceAccount => "service accounts",
        SweepVerdict.Guest => "guests",
        SweepVerdict.Disabled => "disabled",
        _ => verdict.ToString(),
    };

    private static object Json(SweepReport report, List<InactiveAccount> accounts) => new
    {
        cycle = report.Cycle,
        dryRun = report.DryRun,
        accounts = accounts.OrderBy(a => a.Name, StringComparer.OrdinalIgnoreCase).Select(a => new
        {
            id = a.User.Id,
            userPrincipalName = a.User.UserPrincipalName,
            displayName = a.User.DisplayName,
            userType = a.User.UserType,
            reason = a.Verdict == SweepVerdict.NeverSignedIn ? "neverSignedIn" : "notSignedInSince",
            lastSuccessfulSignIn = a.User.LastSuccessfulSignIn,
            created = a.User.CreatedDateTime,
            manager = a.Details?.ManagerName,
            licences = a.Licences,
            groups = a.Details?.GroupCount,
        }),
        totals = new
        {
            raised = report.Raised,
            alreadyRaised = report.AlreadyRaised,
            candidates = report.Candidates,
            pages = report.Pages,
            excluded = report.Excluded.ToDictionary(e => JsonNamingPolicy.CamelCase.ConvertName(e.Key.ToString()), e => e.Value),
            closed = report.Closed,
            disabled = report.Disabled,
            refused = report.Refused,
            disableFailed = report.DisableFailed,
        },
    };

    /// <summary>One redrawn line: the pages read fill the bar's spinner, the counts say what happened so far.</summary>
    private sealed class SweepProgressLine(TextWriter output)
    {
        private static readonly string[] Spinner = ["[=   ]", "[ =  ]", "[  = ]", "[   =]"];

        public void Draw(SweepReport report) =>
            output.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r{Spinner[report.Pages % Spinner.Length]} pages {report.Pages}, candidates {report.Candidates}, raised {report.Raised}, already raised {report.AlreadyRaised}, closed {report.Closed}, disabled {report.Disabled}   "));
    }
}
