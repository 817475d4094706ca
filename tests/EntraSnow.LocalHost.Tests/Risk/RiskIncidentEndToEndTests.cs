using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Tests.Risk;

/// <summary>
/// Risk detections to ServiceNow incidents through the whole local host: the poller reads the Graph emulator's
/// Identity Protection, the SQLite queue carries each detection, the consumer writes the ServiceNow emulator's incidents.
/// </summary>
public sealed class RiskIncidentEndToEndTests
{
    [Fact]
    public async Task A_detection_polled_twice_and_redelivered_opens_one_incident_with_what_an_analyst_needs()
    {
        // No duplicate window: the second poll's messages reach the consumer again, as a redelivery after a crash would.
        await using var risk = await RiskHost.StartAsync(users: 2, provisioned: 1, new Dictionary<string, string?>
        {
            ["LocalHost:Queues:DuplicateDetectionWindow"] = "00:00:00",
        });
        var provisioned = risk.UserIds[0];
        var unknown = risk.UserIds[1];
        var high = risk.Graph.CreateRiskDetection(provisioned, "high", "unfamiliarFeatures", "198.51.100.23")!;
        risk.Graph.CreateRiskDetection(unknown, "medium", "anonymizedIPAddress");

        await risk.PollAndDrainAsync();
        await risk.PollAndDrainAsync();

        Assert.Equal(2, risk.Incidents().Count);
        var incident = risk.IncidentOf(provisioned);
        Assert.Matches("^INC001000[12]$", incident["number"]);
        Assert.Equal(risk.SysUserOf(provisioned), incident["caller_id"]);
        Assert.Equal(("1", "1", "1"), (incident["impact"], incident["urgency"], incident["priority"]));
        Assert.Equal("security", incident["category"]);
        Assert.Equal(risk.ServiceNow.Query("sys_user_group", "name=Security Operations")[0]["sys_id"], incident["assignment_group"]);
        Assert.StartsWith($"entra-risk:{provisioned}:", incident["correlation_id"], StringComparison.Ordinal);
        var description = incident["description"];
        foreach (var fact in new[] { "unfamiliarFeatures", "Risk level: high", "Risk state: atRisk", "Risk detail: none", "Detection timing: realtime",
            "Activity: signin", "Source: IdentityProtection", "198.51.100.23", "Rotterdam, Zuid-Holland, NL", "Activity time: ", "Detected: ",
            high["id"]!.GetValue<string>(), $"https://entra.microsoft.com/#view/Microsoft_AAD_IAM/RiskyUsersBlade/userId/{provisioned}" })
        {
            Assert.Contains(fact, description, StringComparison.Ordinal);
        }

        Assert.Single(risk.WorkNotes(incident));

        var orphan = risk.IncidentOf(unknown);
        Assert.Equal("", orphan["caller_id"]);
        Assert.Equal(("2", "2", "3"), (orphan["impact"], orphan["urgency"], orphan["priority"]));
        Assert.Contains(risk.Graph.GetUser(unknown)!["userPrincipalName"]!.GetValue<string>(), orphan["description"], StringComparison.Ordinal);
        Assert.Contains("not provisioned", orphan["description"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_users_detections_share_one_incident_dismissals_are_work_notes_and_all_dismissed_resolves_it()
    {
        await using var risk = await RiskHost.StartAsync(users: 1, provisioned: 1);
        var userId = risk.UserIds[0];
        var first = risk.Graph.CreateRiskDetection(userId, "medium", "unfamiliarFeatures")!["id"]!.GetValue<string>();
        var second = risk.Graph.CreateRiskDetection(userId, "high", "leakedCredentials")!["id"]!.GetValue<string>();
        risk.Graph.CreateRiskDetection(userId, "none", "generic");

        await risk.PollAndDrainAsync();
        var incident = risk.IncidentOf(userId);
        Assert.Equal(2, risk.WorkNotes(incident).Count);
        // The high detection raised the incident to its level.
        Assert.Equal(("1", "1"), (risk.IncidentOf(userId)["impact"], risk.IncidentOf(userId)["urgency"]));

        risk.Graph.ChangeRiskState(first, "dismissed");
        await risk.PollAndDrainAsync();
        var notes = risk.WorkNotes(incident);
        Assert.Equal(3, notes.Count);
        Assert.Contains($"{first} (unfamiliarFeatures) is now dismissed", notes[^1], StringComparison.Ordinal);
        Assert.Equal("1", risk.IncidentOf(userId)["state"]);

        risk.Graph.ChangeRiskState(second, "remediated");
        await risk.PollAndDrainAsync();
        await risk.PollAndDrainAsync();

        var resolved = risk.IncidentOf(userId);
        Assert.Equal(4, risk.WorkNotes(incident).Count);
        Assert.Equal("6", resolved["state"]);
        Assert.NotEqual("", resolved["resolved_at"]);
        Assert.Equal("Solution provided", resolved["close_code"]);
    }

    [Fact]
    public async Task With_the_response_on_a_high_risk_revokes_the_users_sessions_and_the_incident_says_so_and_medium_does_not()
    {
        await using var risk = await RiskHost.StartAsync(users: 2, provisioned: 2, new Dictionary<string, string?>
        {
            ["Risk:Incident:RevokeSessionsOnHighRisk"] = "true",
        });
        risk.Graph.CreateRiskDetection(risk.UserIds[0], "high", "leakedCredentials");
        risk.Graph.CreateRiskDetection(risk.UserIds[1], "medium", "unfamiliarFeatures");

        await risk.PollAndDrainAsync();

        Assert.NotNull(risk.Graph.GetUser(risk.UserIds[0])!["signInSessionsValidFromDateTime"]);
        Assert.Contains("revoked", risk.WorkNotes(risk.IncidentOf(risk.UserIds[0]))[0], StringComparison.Ordinal);
        Assert.Null(risk.Graph.GetUser(risk.UserIds[1])!["signInSessionsValidFromDateTime"]);
        Assert.DoesNotContain("revoked", risk.WorkNotes(risk.IncidentOf(risk.UserIds[1]))[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_burst_of_1000_detections_for_200_users_takes_one_Graph_call_a_page_within_one_request_a_second_and_every_detection_reaches_an_incident()
    {
        await using var risk = await RiskHost.StartAsync(users: 200, provisioned: 150);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 1000; i++)
        {
            ids.Add(risk.Graph.CreateRiskDetection(risk.UserIds[i % 200], i % 3 == 0 ? "high" : "medium", "unfamiliarFeatures")!["id"]!.GetValue<string>());
        }

        await risk.PollAndDrainAsync();

        Assert.Equal(2, risk.Graph.IdentityProtection.Served);
        Assert.Equal(0, risk.Graph.IdentityProtection.Refused);
        Assert.True(risk.Graph.IdentityProtection.ShortestGap >= TimeSpan.FromSeconds(1));
        Assert.Equal(200, risk.Incidents().Count);
        Assert.Subset(risk.DetectionsInIncidents(), ids);
        Assert.Equal(ids.Count, risk.DetectionsInIncidents().Count);
    }

    [Fact]
    public async Task A_storm_of_429s_without_Retry_After_is_backed_off_and_loses_nothing()
    {
        await using var risk = await RiskHost.StartAsync(users: 5, provisioned: 5, new Dictionary<string, string?>
        {
            ["Graph:BackoffBase"] = "00:00:00.100",
            ["Graph:MaxRetries"] = "3",
        });
        for (var i = 0; i < 20; i++)
        {
            risk.Graph.CreateRiskDetection(risk.UserIds[i % 5], "high", "anomalousToken");
        }

        // More 429s than one run waits out: the first poll gives up, the next one gets through.
        risk.Graph.Faults.Add(new GraphFault { Kind = GraphFaultKind.Throttle, Count = 5, PathContains = "riskDetections" });
        await Assert.ThrowsAnyAsync<Exception>(risk.PollAsync);
        Assert.Equal(1, risk.Graph.Faults.Pending);
        Assert.Empty(risk.Incidents());
        await risk.PollAndDrainAsync();

        Assert.Equal(0, risk.Graph.Faults.Pending);
        Assert.Equal(5, risk.Incidents().Count);
        Assert.Equal(20, risk.DetectionsInIncidents().Count);
    }

    [Fact]
    public async Task An_assignment_group_the_ServiceNow_emulator_does_not_have_stops_the_local_host_naming_the_setting()
    {
        var settings = LocalHostHarness.IntakeOnly("a-client-state-long-enough-for-graph");
        settings["Risk:Incident:AssignmentGroup"] = "No Such Team";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => LocalHostHarness.StartAsync(settings));

        Assert.Contains("Risk:Incident:AssignmentGroup 'No Such Team' names no sys_user_group in ServiceNow", Assert.Single(error.Failures), StringComparison.Ordinal);
    }
}
