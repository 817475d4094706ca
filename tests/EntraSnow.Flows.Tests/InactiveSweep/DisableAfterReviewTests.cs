using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.Stores;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.InactiveSweep;

/// <summary>
/// The optional action after a review: a review task read back from ServiceNow (its <c>approval</c>, when it was opened,
/// and for one the reviewer closed, whether EntraSnow noted it already) and the account read again from Graph decide
/// whether the account is disabled.
/// </summary>
public sealed class DisableAfterReviewTests
{
    private const string BreakGlassGroup = "6f1c2a4e-0b7d-4c1e-9a55-3d2f8e9b1c01";

    private static readonly DateTimeOffset Opened = new(2026, 11, 2, 3, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Opened.AddDays(1));
    private readonly IDirectory _directory = Substitute.For<IDirectory>();
    private readonly IServiceNowTable _serviceNow = Substitute.For<IServiceNowTable>();
    private readonly List<ServiceNowRecord> _openTasks = [];
    private readonly List<ServiceNowRecord> _closedTasks = [];
    private readonly List<string> _queries = [];
    private readonly Dictionary<string, DirectoryUser> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string>> _memberships = new(StringComparer.Ordinal);

    public DisableAfterReviewTests()
    {
        _directory.GetInactiveCandidatesAsync(Arg.Any<InactiveCandidateQuery>(), Arg.Any<string?>(), Arg.Any<CancellationToken>())
            .Returns(_ => Pages());
        _directory.GetSignInStatesAsync(Arg.Any<IReadOnlyCollection<string>>(), Arg.Any<CancellationToken>())
            .Returns(c => (IReadOnlyList<DirectoryUser>)c.Arg<IReadOnlyCollection<string>>().Where(_users.ContainsKey).Select(id => _users[id]).ToList());
        _directory.GetUserGroupIdsAsync(Arg.Any<string>(), Arg.Any<CancellationToken>())
            .Returns(c => _memberships.GetValueOrDefault(c.Arg<string>()) ?? []);
        _directory.GetGroupAsync(BreakGlassGroup, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = BreakGlassGroup, DisplayName = "Break glass" });
        _directory.GetGroupMemberIdsAsync(BreakGlassGroup, Arg.Any<CancellationToken>()).Returns([]);
        _serviceNow.QueryAsync("sc_task", Arg.Any<EncodedQuery>(), Arg.Any<IReadOnlyList<string>?>(), Arg.Any<CancellationToken>())
            .Returns(c => Records(c.Arg<EncodedQuery>()));
        _serviceNow.UpdateAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<IReadOnlyDictionary<string, string?>>(), Arg.Any<CancellationToken>())
            .Returns(c => new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = c.ArgAt<string>(1) }));
    }

    private static async IAsyncEnumerable<InactiveCandidatePage> Pages()
    {
        await Task.CompletedTask;
        yield break;
    }

    /// <summary>The open tasks for the query of open reviews, the closed ones for the query of closed ones.</summary>
    private async IAsyncEnumerable<ServiceNowRecord> Records(EncodedQuery query)
    {
        await Task.CompletedTask;
        _queries.Add(query.ToString());
        foreach (var task in query.ToString().Contains("active=false", StringComparison.Ordinal) ? _closedTasks : _openTasks)
        {
            yield return task;
        }
    }

    /// <summary>A review task for a fresh account that last signed in 120 days before the review was opened; open unless close notes are given.</summary>
    private string Review(string approval = "not requested", bool enabled = true, DateTimeOffset? lastSignIn = null, string? closeNotes = null)
    {
        var userId = Guid.NewGuid().ToString();
        var sysId = Guid.NewGuid().ToString("N");
        _users[userId] = new DirectoryUser
        {
            Id = userId,
            UserPrincipalName = $"user-{sysId[..6]}@contoso.example",
            UserType = "Member",
            AccountEnabled = enabled,
            LastSuccessfulSignIn = lastSignIn ?? Opened.AddDays(-120),
        };
        (closeNotes is null ? _openTasks : _closedTasks).Add(new ServiceNowRecord(new Dictionary<string, string?>
        {
            ["sys_id"] = sysId,
            ["correlation_id"] = ReviewCorrelation.ForAccount(userId, "2026-11"),
            ["approval"] = approval,
            ["sys_created_on"] = Opened.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            ["close_notes"] = closeNotes,
        }));
        return userId;
    }

    private string SysIdOf(string userId) => _openTasks.Concat(_closedTasks).Single(t => ReviewCorrelation.UserOf(t["correlation_id"]) == userId).SysId;

    private Task<SweepReport> RunAsync(Dictionary<string, string?>? settings = null, bool dryRun = false)
    {
        var values = new Dictionary<string, string?>
        {
            ["InactiveSweep:Enabled"] = "true",
            ["InactiveSweep:AssignmentGroup"] = "IAM",
            ["InactiveSweep:DisableAccounts"] = "true",
            ["InactiveSweep:GraceDays"] = "14",
            ["InactiveSweep:BreakGlassGroupIds:0"] = BreakGlassGroup,
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var references = Substitute.For<IServiceNowReferences>();
        references.FindAsync("sys_user_group", "name", "IAM", Arg.Any<CancellationToken>()).Returns("group-sys-id");
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddSingleton(_directory);
        services.AddSingleton(_serviceNow);
        services.AddSingleton(references);
        services.AddSingleton<ICheckpointStore>(new InMemoryCheckpoints());
        services.AddInactiveSweep(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<InactiveSweepRunner>().RunAsync(new SweepRunRequest { DryRun = dryRun });
    }

    private Task DisabledAsync(string userId) => _directory.Received(1).DisableUserAsync(userId, Arg.Any<CancellationToken>());

    private Task NeverDisabledAsync() => _directory.DidNotReceiveWithAnyArgs().DisableUserAsync(default!, default);

    private IReadOnlyDictionary<string, string?> ClosingUpdate(string userId) =>
        (IReadOnlyDictionary<string, string?>)_serviceNow.ReceivedCalls()
            .Single(c => c.GetMethodInfo().Name == nameof(IServiceNowTable.UpdateAsync) && (string)c.GetArguments()[1]! == SysIdOf(userId))
            .GetArguments()[2]!;

    [Fact]
    public async Task An_approved_review_disables_the_account_notes_it_on_the_task_and_closes_it()
    {
        var userId = Review(approval: "approved");

        var report = await RunAsync();

        await DisabledAsync(userId);
        var update = ClosingUpdate(userId);
        Assert.Equal("3", update["state"]);
        Assert.Equal("false", update["active"]);
        Assert.Contains("EntraSnow disabled", update["work_notes"], StringComparison.Ordinal);
        Assert.Contains("the review was approved", update["work_notes"], StringComparison.Ordinal);
        Assert.Equal(1, report.Disabled);
    }

    [Fact]
    public async Task A_review_unanswered_for_the_grace_period_disables_the_account()
    {
        var userId = Review();
        _clock.SetUtcNow(Opened.AddDays(14));

        var report = await RunAsync();

        await DisabledAsync(userId);
        Assert.Contains("unanswered for 14 days", ClosingUpdate(userId)["work_notes"], StringComparison.Ordinal);
        Assert.Equal(1, report.Disabled);
    }

    [Fact]
    public async Task A_review_still_within_its_grace_period_is_left_open()
    {
        Review();
        _clock.SetUtcNow(Opened.AddDays(14).AddMinutes(-1));

        var report = await RunAsync();

        await NeverDisabledAsync();
        await _serviceNow.DidNotReceiveWithAnyArgs().UpdateAsync(default!, default!, default!, default);
        Assert.Equal(0, report.Disabled);
    }

    [Fact]
    public async Task Without_a_grace_period_only_an_approval_disables()
    {
        Review();
        _clock.SetUtcNow(Opened.AddDays(200));

        await RunAsync(new() { ["InactiveSweep:GraceDays"] = null });

        await NeverDisabledAsync();
    }

    [Fact]
    public async Task A_rejected_review_keeps_the_account_even_after_the_grace_period()
    {
        Review(approval: "rejected");
        _clock.SetUtcNow(Opened.AddDays(60));

        await RunAsync();

        await NeverDisabledAsync();
        await _serviceNow.DidNotReceiveWithAnyArgs().UpdateAsync(default!, default!, default!, default);
    }

    [Fact]
    public async Task Nothing_is_disabled_while_the_setting_is_off()
    {
        Review(approval: "approved");

        await RunAsync(new() { ["InactiveSweep:DisableAccounts"] = "false", ["InactiveSweep:GraceDays"] = null });

        await NeverDisabledAsync();
    }

    [Fact]
    public async Task An_account_that_joined_a_break_glass_group_after_the_sweep_began_is_never_disabled()
    {
        var userId = Review(approval: "approved");
        // Not a member when the run read the group; a member when the action is about to happen.
        _memberships[userId] = [Guid.NewGuid().ToString(), BreakGlassGroup.ToUpperInvariant()];

        var report = await RunAsync();

        await NeverDisabledAsync();
        var update = ClosingUpdate(userId);
        Assert.Equal("4", update["state"]);
        Assert.Contains("break-glass", update["work_notes"], StringComparison.Ordinal);
        Assert.Equal(1, report.Refused);
        Assert.Equal(0, report.Disabled);
    }

    [Fact]
    public async Task A_break_glass_member_known_at_the_start_of_the_run_is_never_disabled()
    {
        var userId = Review(approval: "approved");
        _directory.GetGroupMemberIdsAsync(BreakGlassGroup, Arg.Any<CancellationToken>()).Returns([userId]);

        var report = await RunAsync();

        await NeverDisabledAsync();
        Assert.Equal(1, report.Refused);
    }

    [Fact]
    public async Task An_account_that_signed_in_again_is_not_disabled_and_its_review_is_closed_with_a_note()
    {
        var userId = Review(approval: "approved", lastSignIn: Opened.AddDays(1).AddHours(-3));
        _clock.SetUtcNow(Opened.AddDays(3));

        var report = await RunAsync();

        await NeverDisabledAsync();
        Assert.Contains("signed in again", ClosingUpdate(userId)["work_notes"], StringComparison.Ordinal);
        Assert.Equal(1, report.Closed);
    }

    [Fact]
    public async Task An_account_that_signed_in_after_the_review_opened_is_not_disabled_even_with_closing_off()
    {
        // An old review (200 days): the new sign-in is outside the 90-day threshold, but after the review was opened.
        Review(approval: "approved", lastSignIn: Opened.AddDays(5));
        _clock.SetUtcNow(Opened.AddDays(200));

        await RunAsync(new() { ["InactiveSweep:CloseWhenSignedInAgain"] = "false" });

        await NeverDisabledAsync();
        await _serviceNow.DidNotReceiveWithAnyArgs().UpdateAsync(default!, default!, default!, default);
    }

    [Fact]
    public async Task A_run_after_a_crash_between_disabling_and_closing_only_closes_the_task()
    {
        // The earlier run disabled the account, then died before the task was closed.
        var userId = Review(approval: "approved", enabled: false);

        await RunAsync();

        await NeverDisabledAsync();
        var update = ClosingUpdate(userId);
        Assert.Equal("3", update["state"]);
        Assert.Contains("is disabled in Entra ID", update["work_notes"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_review_approved_and_closed_in_one_step_disables_the_account_and_adds_the_note_to_the_reviewers_close_notes()
    {
        var userId = Review(approval: "approved", closeNotes: "Left in June, not needed.");

        var report = await RunAsync();

        await DisabledAsync(userId);
        var update = ClosingUpdate(userId);
        Assert.False(update.ContainsKey("state"));
        Assert.False(update.ContainsKey("active"));
        Assert.StartsWith("Left in June, not needed.", update["close_notes"], StringComparison.Ordinal);
        Assert.Contains("EntraSnow disabled", update["close_notes"], StringComparison.Ordinal);
        Assert.Contains("EntraSnow disabled", update["work_notes"], StringComparison.Ordinal);
        Assert.Equal(1, report.Disabled);
    }

    [Theory]
    [InlineData("Left in June.\n\nEntraSnow disabled a@contoso.example in Entra ID on 2026-11-03 03:00 UTC: the review was approved. Noted by EntraSnow.")]
    [InlineData("a@contoso.example is a member of a break-glass group: EntraSnow never disables it. Closed by EntraSnow.")]
    [InlineData("EntraSnow disabled a@contoso.example in Entra ID on 2026-11-03 03:00 UTC: the review was approved. Re-enable it in Entra ID if it is still needed.")]
    public async Task A_closed_review_EntraSnow_already_handled_is_never_acted_on_again(string closeNotes)
    {
        // E.g. an administrator re-enabled the account after EntraSnow disabled it: it stays enabled.
        Review(approval: "approved", closeNotes: closeNotes);

        var report = await RunAsync();

        await NeverDisabledAsync();
        await _serviceNow.DidNotReceiveWithAnyArgs().UpdateAsync(default!, default!, default!, default);
        Assert.Equal(0, report.Disabled);
    }

    [Fact]
    public async Task A_break_glass_account_approved_and_closed_in_one_step_is_never_disabled()
    {
        var userId = Review(approval: "approved", closeNotes: "");
        _memberships[userId] = [BreakGlassGroup];

        var report = await RunAsync();

        await NeverDisabledAsync();
        Assert.Contains("break-glass", ClosingUpdate(userId)["close_notes"], StringComparison.Ordinal);
        Assert.Equal(1, report.Refused);
    }

    [Fact]
    public async Task An_account_that_signed_in_after_its_review_opened_is_not_disabled_by_a_closed_approval()
    {
        var userId = Review(approval: "approved", lastSignIn: Opened.AddHours(20), closeNotes: "");

        await RunAsync();

        await NeverDisabledAsync();
        Assert.Contains("signed in again", ClosingUpdate(userId)["close_notes"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closed_reviews_are_read_only_for_this_cycle_and_the_previous_one_and_only_when_disabling_is_on()
    {
        await RunAsync();
        var withDisabling = _queries.ToList();
        _queries.Clear();
        await RunAsync(new() { ["InactiveSweep:DisableAccounts"] = "false", ["InactiveSweep:GraceDays"] = null });

        var closed = Assert.Single(withDisabling, q => q.Contains("active=false", StringComparison.Ordinal));
        Assert.Contains("approval=approved", closed, StringComparison.Ordinal);
        Assert.Contains("correlation_idENDSWITH:2026-11^ORcorrelation_idENDSWITH:2026-10", closed, StringComparison.Ordinal);
        Assert.DoesNotContain(_queries, q => q.Contains("active=false", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_account_Graph_refuses_to_disable_keeps_its_review_open_and_stops_no_other()
    {
        var administrator = Review(approval: "approved");
        var other = Review(approval: "approved");
        _directory.DisableUserAsync(administrator, Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new GraphRequestException("Insufficient privileges", 403, "Authorization_RequestDenied")));

        var report = await RunAsync();

        await DisabledAsync(other);
        Assert.Equal(1, report.DisableFailed);
        Assert.Equal(1, report.Disabled);
        Assert.DoesNotContain(_serviceNow.ReceivedCalls(), c => c.GetArguments().Length > 1 && Equals(c.GetArguments()[1], SysIdOf(administrator)));
    }

    [Fact]
    public async Task A_dry_run_reports_what_it_would_disable_and_writes_nothing()
    {
        Review(approval: "approved");
        Review();
        _clock.SetUtcNow(Opened.AddDays(30));

        var report = await RunAsync(dryRun: true);

        Assert.Equal(2, report.Disabled);
        await NeverDisabledAsync();
        await _serviceNow.DidNotReceiveWithAnyArgs().UpdateAsync(default!, default!, default!, default);
        await _serviceNow.DidNotReceiveWithAnyArgs().CreateAsync(default!, default!, default);
    }

    [Fact]
    public async Task A_deleted_account_leaves_its_review_alone()
    {
        var userId = Review(approval: "approved");
        _users.Remove(userId);

        await RunAsync();

        await NeverDisabledAsync();
        await _serviceNow.DidNotReceiveWithAnyArgs().UpdateAsync(default!, default!, default!, default);
    }

    [Theory]
    [InlineData("InactiveSweep:GraceDays", "0", "GraceDays")]
    [InlineData("InactiveSweep:GraceDays", "400", "GraceDays")]
    public void A_grace_period_out_of_range_stops_start_up_naming_it(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Options(new() { ["InactiveSweep:DisableAccounts"] = "true", [key] = value }));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_grace_period_without_disabling_stops_start_up_naming_both_settings()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Options(new() { ["InactiveSweep:GraceDays"] = "14" }));

        Assert.Contains("InactiveSweep:GraceDays", error.Message, StringComparison.Ordinal);
        Assert.Contains("InactiveSweep:DisableAccounts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Disabling_with_a_single_review_request_stops_start_up_naming_the_mode()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            Options(new() { ["InactiveSweep:DisableAccounts"] = "true", ["InactiveSweep:Mode"] = "SingleRequest" }));

        Assert.Contains("InactiveSweep:Mode=TaskPerAccount", error.Message, StringComparison.Ordinal);
    }

    private static InactiveSweepOptions Options(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddInactiveSweep(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<InactiveSweepOptions>>().Value;
    }
}
