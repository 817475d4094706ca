using System.Globalization;
using System.Text.Json;
using EntraSnow.Prove.Rig;
using EntraSnow.Prove.Scenarios;

namespace EntraSnow.Prove;

/// <summary>The run's figures as a Markdown table (what RELIABILITY.md holds) or as JSON (<c>--json</c>).</summary>
internal static class ResultsTable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void WriteMarkdown(TextWriter output, ProofScale scale, IReadOnlyList<ScenarioResult> results, SecretsScan.Result scan, TimeSpan wall)
    {
        output.WriteLine();
        output.WriteLine($"| scenario ({scale.Name}) | events | lost | duplicated | dead-lettered | time to recover | wall time | notes |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |");
        foreach (var r in results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Events:N0} | {Mark(r.Lost)} | {Mark(r.Duplicated)} | {r.DeadLettered} | {Recovery(r)} | {r.Wall.TotalSeconds:F1} s | {Notes(r)} |"));
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Secrets scan: {scan.Findings.Count} finding(s) for {RunSecretsCount} distinct secrets in {scan.FilesSearched} files ({scan.BytesSearched / 1024.0 / 1024.0:F1} MB: logs, SQLite queues and stores, the ServiceNow emulator's records)."));
        foreach (var finding in scan.Findings)
        {
            output.WriteLine($"  FOUND {finding.Secret} in {finding.File}");
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Whole run: {wall.TotalSeconds:F0} s. Targets {(Passed(results, scan) ? "met" : "MISSED")}."));
    }

    public static void WriteJson(TextWriter output, ProofScale scale, IReadOnlyList<ScenarioResult> results, SecretsScan.Result scan, TimeSpan wall)
    {
        output.WriteLine(JsonSerializer.Serialize(new
        {
            scale = scale.Name,
            wallSeconds = Math.Round(wall.TotalSeconds, 1),
            passed = Passed(results, scan),
            scenarios = results.Select(r => new
            {
                scenario = r.Scenario,
                events = r.Events,
                lost = r.Lost,
                duplicated = r.Duplicated,
                deadLettered = r.DeadLettered,
                recoverySeconds = r.Recovery is { } t ? Math.Round(t.TotalSeconds, 2) : (double?)null,
                recoveryMeaning = r.RecoveryMeaning,
                recoveryTargetSeconds = r.RecoveryTarget?.TotalSeconds,
                virtualSeconds = r.VirtualTime?.TotalSeconds,
                wallSeconds = Math.Round(r.Wall.TotalSeconds, 1),
                settled = r.Settled,
                metTargets = r.MetTargets,
                notes = r.Notes,
            }),
            secretsScan = new { files = scan.FilesSearched, bytes = scan.BytesSearched, findings = scan.Findings },
        }, Json));
    }

    /// <summary>What fails CI: anything lost or duplicated, a scenario that never settled, a secret found.</summary>
    public static bool Passed(IReadOnlyList<ScenarioResult> results, SecretsScan.Result scan) =>
        scan.Findings.Count == 0 && results.All(r => r.Settled && r.Lost == 0 && r.Duplicated == 0);

    private const int RunSecretsCount = 4;

    private static string Mark(int count) => count == 0 ? "0" : $"**{count}**";

    private static string Recovery(ScenarioResult r)
    {
        if (r.Recovery is not { } recovery)
        {
            return r.Settled ? "–" : "**did not recover**";
        }

        var figure = recovery > TimeSpan.FromMinutes(2)
            ? string.Create(CultureInfo.InvariantCulture, $"{recovery.TotalMinutes:F1} min")
            : string.Create(CultureInfo.InvariantCulture, $"{recovery.TotalSeconds:F1} s");
        var target = r.RecoveryTarget is { } t
            ? string.Create(CultureInfo.InvariantCulture, $"; target {t.TotalSeconds:F0} s{(recovery <= t ? "" : " **MISSED**")}")
            : "";
        return $"{figure} ({r.RecoveryMeaning}{target})";
    }

    private static string Notes(ScenarioResult r)
    {
        var notes = r.Notes;
        if (r.VirtualTime is { } v)
        {
            notes = string.Create(CultureInfo.InvariantCulture, $"{v.TotalMinutes:F0} min of virtual time; ") + notes;
        }

        return r.Settled ? notes : "**did not settle** " + notes;
    }
}
