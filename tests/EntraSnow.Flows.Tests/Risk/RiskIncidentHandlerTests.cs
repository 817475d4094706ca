using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.Risk;
using EntraSnow.Flows.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.Risk;

/// <summary>The consumer's rules with the ports faked; the end-to-end tests against the emulators are in EntraSnow.LocalHost.Tests.</summary>
public sealed class RiskIncidentHandlerTests
{
    private readonly IServiceNowTable _serviceNow = Substitute.For<IServiceNowTable>();
    private readonly IServiceNowReferences _references = Substitute.For<IServiceNowReferences>();
    private readonly IDirectory _directory = Substitute.For<IDirectory>();
    private readonly RecordingQueue _queue = new();
    private readonly RiskIncidentOptions _options = new() { AssignmentGroup = "Security Operations" };
    private readonly ProvisioningOptions _provisioning = new();

    private readonly RiskAssignmentGroup _assignmentGroup;

    public RiskIncidentHandlerTests()
    {
        _assignmentGroup = new RiskAssignmentGroup(_references, Options.Create(_options));
        _serviceNow.QueryAsync(default!, default!, (IReadOnlyList<string>?)default, default).ReturnsForAnyArgs(AsyncEnumerable.Empty<ServiceNowRecord>());
        // Like the reference cache: null when ServiceNow has no such record.
        _references.FindAsync(default!, default!, default!, default).ReturnsForAnyArgs((string?)null);
        _references.FindAsync("sys_user_group", "name", "Security Operations", Arg.Any<CancellationToken>()).Returns("group-1");
        _serviceNow.CreateAsync(default!, default!, default).ReturnsForAnyArgs(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = "i1", ["number"] = "INC0010001" }));
    }

    private RiskIncidentHandler Handler() => new(_serviceNow, _references, _assignmentGroup, _directory, _queue, Options.Create(_options), Options.Create(_provisioning),
        new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero)), NullLogger<RiskIncidentHandler>.Instance);

    private static ChangeMessage Message(string level, int attempt = 0) => RiskDetectionMessage.From(new RiskDetection
    {
        Id = "d1",
        UserId = "u1",
        UserPrincipalName = "adele@contoso.example",
        RiskLevel = level,
        RiskState = "atRisk",
        RiskEventType = "leakedCredentials",
        DetectedDateTime = new DateTimeOffset(2026, 12, 1, 11, 0, 0, TimeSpan.Zero),
    }, "tenant-1") with { Attempt = attempt };

    [Theory]
    [InlineData("none")]
    [InlineData("hidden")]
    public async Task Levels_without_impact_open_no_incident(string level)
    {
        await Handler().HandleAsync(Message(level), default);

        Assert.Empty(_serviceNow.ReceivedCalls());
    }

    [Fact]
    public async Task An_unprovisioned_user_is_provisioned_first_when_the_setting_says_so_and_the_incident_goes_ahead_on_the_retry()
    {
        _options.ProvisionUnknownCallers = true;

        var wait = await Assert.ThrowsAsync<TransientFailureException>(() => Handler().HandleAsync(Message("high"), default));
        await Handler().HandleAsync(Message("high", attempt: 1), default);

        Assert.NotNull(wait.RetryAfter);
        var provision = Assert.Single(_queue.On(QueueNames.UserChanges));
        Assert.Equal(("u1", MessageKinds.UserUpdated, "tenant-1"), (provision.SubjectId, provision.Kind, provision.TenantId));
        await _serviceNow.Received(1).CreateAsync("incident",
            Arg.Is<IReadOnlyDictionary<string, string?>>(f => !f.ContainsKey("caller_id") && f["description"]!.Contains("adele@contoso.example")), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task The_security_incident_table_puts_the_user_in_affected_user()
    {
        _options.Table = "sn_si_incident";
        _references.FindAsync("sys_user", "u_entra_object_id", "u1", Arg.Any<CancellationToken>()).Returns("user-1");

        await Handler().HandleAsync(Message("medium"), default);

        await _serviceNow.Received(1).CreateAsync("sn_si_incident",
            Arg.Is<IReadOnlyDictionary<string, string?>>(f => f["affected_user"] == "user-1" && f["impact"] == "2" && f["urgency"] == "2"), Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(23, false)]
    [InlineData(25, true)]
    public async Task A_detection_joins_the_users_open_incident_only_within_the_grouping_window(int incidentAgeHours, bool opensAnother)
    {
        // The clock says 2026-12-01 12:00 UTC; ServiceNow answers sys_created_on in UTC as "yyyy-MM-dd HH:mm:ss".
        var opened = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).AddHours(-incidentAgeHours);
        UserHasIncidents(new ServiceNowRecord(new Dictionary<string, string?>
        {
            ["sys_id"] = "open-1", ["number"] = "INC0010007", ["impact"] = "2", ["urgency"] = "2", ["state"] = "2", ["active"] = "true",
            ["sys_created_on"] = opened.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
        }));

        await Handler().HandleAsync(Message("medium"), default);

        if (opensAnother)
        {
            await _serviceNow.Received(1).CreateAsync("incident", Arg.Any<IReadOnlyDictionary<string, string?>>(), Arg.Any<CancellationToken>());
            await _serviceNow.DidNotReceiveWithAnyArgs().UpdateAsync(default!, default!, default!, default);
        }
        else
        {
            await _serviceNow.Received(1).UpdateAsync("incident", "open-1",
                Arg.Is<IReadOnlyDictionary<string, string?>>(f => f["work_notes"]!.Contains("Another risk detection for this user") && f["work_notes"]!.Contains("[entra-risk d1 atRisk ")),
                Arg.Any<CancellationToken>());
            await _serviceNow.DidNotReceiveWithAnyArgs().CreateAsync(default!, default!, default);
        }
    }

    private void UserHasIncidents(params ServiceNowRecord[] incidents) =>
        _serviceNow.QueryAsync("incident", Arg.Is<EncodedQuery>(q => q.ToString().StartsWith("correlation_idSTARTSWITHentra-risk:u1:", StringComparison.Ordinal)),
            Arg.Any<IReadOnlyList<string>?>(), Arg.Any<CancellationToken>()).Returns(incidents.ToAsyncEnumerable());

    private static ServiceNowRecord Incident(string sysId, string state) => new(new Dictionary<string, string?>
    {
        ["sys_id"] = sysId, ["number"] = "INC-" + sysId, ["impact"] = "2", ["urgency"] = "2", ["state"] = state, ["active"] = state == "7" ? "false" : "true",
        ["sys_created_on"] = "2026-11-01 08:00:00",
    });

    [Fact]
    public async Task A_detections_marker_is_looked_up_only_in_the_work_notes_of_the_users_own_incidents_open_or_closed()
    {
        UserHasIncidents(Incident("i-9", "2"), Incident("i-7", "7"));

        await Handler().HandleAsync(Message("high"), default);

        var journal = _serviceNow.ReceivedCalls().Where(c => c.GetMethodInfo().Name == nameof(IServiceNowTable.QueryAsync) && (string)c.GetArguments()[0]! == "sys_journal_field")
            .Select(c => c.GetArguments()[1]!.ToString()!).ToList();
        var lookup = Assert.Single(journal);
        Assert.StartsWith("name=incident^element_idINi-9,i-7^", lookup, StringComparison.Ordinal);
        Assert.Contains("valueLIKE[entra-risk ", lookup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_without_incidents_costs_no_journal_lookup()
    {
        await Handler().HandleAsync(Message("high"), default);

        Assert.DoesNotContain(_serviceNow.ReceivedCalls(), c => c.GetArguments().FirstOrDefault() is "sys_journal_field");
        await _serviceNow.Received(1).CreateAsync("incident", Arg.Any<IReadOnlyDictionary<string, string?>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task The_caller_is_found_by_the_configured_object_id_field()
    {
        _provisioning.ObjectIdField = "u_azure_object_id";
        _references.FindAsync("sys_user", "u_azure_object_id", "u1", Arg.Any<CancellationToken>()).Returns("user-1");

        await Handler().HandleAsync(Message("high"), default);

        await _serviceNow.Received(1).CreateAsync("incident", Arg.Is<IReadOnlyDictionary<string, string?>>(f => f["caller_id"] == "user-1"), Arg.Any<CancellationToken>());
        await _references.DidNotReceive().FindAsync("sys_user", "u_entra_object_id", Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task The_assignment_group_is_looked_up_once_for_every_incident_of_the_process()
    {
        await Handler().HandleAsync(Message("high"), default);
        await Handler().HandleAsync(Message("medium") with { SessionKey = "u2", SubjectId = "d2" }, default);

        await _serviceNow.Received(2).CreateAsync("incident", Arg.Is<IReadOnlyDictionary<string, string?>>(f => f["assignment_group"] == "group-1"), Arg.Any<CancellationToken>());
        await _references.Received(1).FindAsync("sys_user_group", Arg.Any<string>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task An_assignment_group_given_as_a_sys_id_must_exist_too()
    {
        _options.AssignmentGroup = "0123456789abcdef0123456789abcdef";
        _references.FindAsync("sys_user_group", "sys_id", "0123456789abcdef0123456789abcdef", Arg.Any<CancellationToken>()).Returns("0123456789abcdef0123456789abcdef");

        await Handler().HandleAsync(Message("low"), default);

        await _serviceNow.Received(1).CreateAsync("incident",
            Arg.Is<IReadOnlyDictionary<string, string?>>(f => f["assignment_group"] == "0123456789abcdef0123456789abcdef"), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task An_assignment_group_ServiceNow_does_not_have_stops_the_start_naming_the_setting()
    {
        _options.AssignmentGroup = "Nobody";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => Check().StartedAsync(default));

        Assert.Contains("Risk:Incident:AssignmentGroup 'Nobody' names no sys_user_group", Assert.Single(error.Failures), StringComparison.Ordinal);
        Assert.Empty(_serviceNow.ReceivedCalls());
    }

    [Fact]
    public async Task A_ServiceNow_that_cannot_be_reached_at_start_up_does_not_stop_the_host_and_the_first_incident_resolves_the_group()
    {
        _references.FindAsync("sys_user_group", "name", "Security Operations", Arg.Any<CancellationToken>())
            .Returns(_ => throw new HttpRequestException("Connection refused"), _ => Task.FromResult<string?>("group-1"));

        await Check().StartedAsync(default);
        await Handler().HandleAsync(Message("high"), default);

        await _serviceNow.Received(1).CreateAsync("incident", Arg.Is<IReadOnlyDictionary<string, string?>>(f => f["assignment_group"] == "group-1"), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_missing_assignment_group_first_met_by_the_consumer_dead_letters_the_detection_naming_the_setting()
    {
        _options.AssignmentGroup = "Nobody";

        var failure = await Assert.ThrowsAsync<RiskAssignmentGroupMissingException>(() => Handler().HandleAsync(Message("low"), default));

        Assert.IsAssignableFrom<PermanentFailureException>(failure);
        Assert.Contains("Risk:Incident:AssignmentGroup", failure.Message, StringComparison.Ordinal);
        await _serviceNow.DidNotReceiveWithAnyArgs().CreateAsync(default!, default!, default);
    }

    [Fact]
    public async Task With_the_risk_flow_switched_off_a_missing_assignment_group_does_not_stop_the_start()
    {
        _options.AssignmentGroup = "Nobody";

        await Check(enabled: false).StartedAsync(default);

        await _references.DidNotReceiveWithAnyArgs().FindAsync(default!, default!, default!, default);
    }

    private RiskSettingsCheck Check(bool enabled = true) =>
        new(_assignmentGroup, Options.Create(new RiskOptions { Enabled = enabled }), NullLogger<RiskSettingsCheck>.Instance);
}
