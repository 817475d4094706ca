using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
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

    public RiskIncidentHandlerTests()
    {
        _serviceNow.QueryAsync(default!, default!, (IReadOnlyList<string>?)default, default).ReturnsForAnyArgs(AsyncEnumerable.Empty<ServiceNowRecord>());
        // Like the reference cache: null when ServiceNow has no such record.
        _references.FindAsync(default!, default!, default!, default).ReturnsForAnyArgs((string?)null);
        _references.FindAsync("sys_user_group", "name", "Security Operations", Arg.Any<CancellationToken>()).Returns("group-1");
        _serviceNow.CreateAsync(default!, default!, default).ReturnsForAnyArgs(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = "i1", ["number"] = "INC0010001" }));
    }

    private RiskIncidentHandler Handler() => new(_serviceNow, _references, _directory, _queue, Options.Create(_options),
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

    [Fact]
    public async Task An_assignment_group_ServiceNow_does_not_have_dead_letters_naming_the_setting()
    {
        _options.AssignmentGroup = "Nobody";

        var failure = await Assert.ThrowsAsync<PermanentFailureException>(() => Handler().HandleAsync(Message("low"), default));

        Assert.Contains("Risk:Incident:AssignmentGroup", failure.Message, StringComparison.Ordinal);
    }
}
