using System.ComponentModel.DataAnnotations;
using EntraSnow.Flows.Risk;

namespace EntraSnow.Flows.Tests.Risk;

public sealed class RiskIncidentOptionsTests
{
    private static List<string> Errors(RiskIncidentOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage!).ToList();
    }

    [Fact]
    public void Defaults_map_high_medium_low_and_open_nothing_for_none_and_hidden()
    {
        var options = new RiskIncidentOptions { AssignmentGroup = "Security Operations" };

        Assert.Empty(Errors(options));
        Assert.Equal(("1", "1"), options.ImpactAndUrgency("high"));
        Assert.Equal(("2", "2"), options.ImpactAndUrgency("medium"));
        Assert.Equal(("3", "3"), options.ImpactAndUrgency("low"));
        Assert.Null(options.ImpactAndUrgency("none"));
        Assert.Null(options.ImpactAndUrgency("hidden"));
    }

    [Fact]
    public void A_configured_map_replaces_the_default()
    {
        var options = new RiskIncidentOptions { AssignmentGroup = "g", ImpactUrgency = new(StringComparer.OrdinalIgnoreCase) { ["high"] = "2/1" } };

        Assert.Equal(("2", "1"), options.ImpactAndUrgency("high"));
        Assert.Null(options.ImpactAndUrgency("medium"));
    }

    [Fact]
    public void An_empty_assignment_group_a_bad_table_and_a_bad_level_each_name_their_setting()
    {
        var errors = Errors(new RiskIncidentOptions
        {
            AssignmentGroup = " ",
            Table = "problem",
            ImpactUrgency = new(StringComparer.OrdinalIgnoreCase) { ["high"] = "0/4" },
        });

        Assert.Contains(errors, e => e.Contains("Risk:Incident:AssignmentGroup", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Risk:Incident:Table", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Risk:Incident:ImpactUrgency:high", StringComparison.Ordinal));
    }
}
