using System.Text.Json;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>The connector reads the documented answers themselves (the samples), not only the emulator's rendering of them.</summary>
public sealed class ServiceNowJsonTests
{
    private static ServiceNowRecord ReadSample(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", name)));
        return Assert.Single(ServiceNowJson.ReadResult(json.RootElement));
    }

    [Fact]
    public void A_documented_user_reads_references_as_sys_ids_and_an_unset_reference_as_empty()
    {
        var user = ReadSample("sys_user-get.json");

        Assert.Equal("62826bf03710200044e0bfc8bcbe5df1", user.SysId);
        Assert.Equal("221f79b7c6112284005d646b76ab978c", user["department"]);
        Assert.Equal("25ab9c4d0a0a0bb300f7dabdc0ca7c1c", user["location"]);
        Assert.Equal(string.Empty, user["manager"]);
        Assert.Equal("adele.vance@contoso.example", user["user_name"]);
    }

    [Fact]
    public void A_documented_display_value_all_answer_reads_values_and_display_values()
    {
        var user = ReadSample("sys_user-get-display-all.json");

        Assert.Equal("62826bf03710200044e0bfc8bcbe5df1", user.SysId);
        Assert.Equal("221f79b7c6112284005d646b76ab978c", user["department"]);
        Assert.Equal("Retail", user.DisplayValues["department"]);
        Assert.Equal(string.Empty, user["manager"]);
        Assert.Equal("true", user["active"]);
    }

    [Fact]
    public void A_documented_created_incident_reads_its_number_and_references()
    {
        var incident = ReadSample("incident-created.json");

        Assert.Equal("INC0010042", incident["number"]);
        Assert.Equal("62826bf03710200044e0bfc8bcbe5df1", incident["caller_id"]);
        Assert.Equal("287ebd7da9fe198100f92cc8d1d2154e", incident["assignment_group"]);
    }

    [Fact]
    public void A_display_value_reference_without_a_value_takes_the_sys_id_from_its_link()
    {
        using var json = JsonDocument.Parse("""{"result":[{"department":{"display_value":"Retail","link":"https://x.service-now.com/api/now/table/cmn_department/abc123"},"title":"Boss","count":3}]}""");

        var record = Assert.Single(ServiceNowJson.ReadResult(json.RootElement));

        Assert.Equal("abc123", record["department"]);
        Assert.Equal("Retail", record.DisplayValues["department"]);
        Assert.Equal("3", record["count"]);
    }

    [Theory]
    [InlineData("error-not-found.json", "No Record found", "Record doesn't exist or ACL restricts the record retrieval")]
    [InlineData("error-unauthorized.json", "User Not Authenticated", "Required to provide Auth information")]
    public void Documented_errors_read_their_message_and_detail(string sample, string message, string detail)
    {
        var (readMessage, readDetail) = ServiceNowJson.ReadError(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", sample)));

        Assert.Equal(message, readMessage);
        Assert.Equal(detail, readDetail);
    }

    [Theory]
    [InlineData("user_name", "a^b", "user_name=a^^b")]
    [InlineData("user_name", "x^ORuser_name=admin", "user_name=x^^ORuser_name=admin")]
    [InlineData("correlation_id", "entra:a=b", "correlation_id=entra:a=b")]
    public void Encoded_query_values_are_escaped(string field, string value, string expected)
    {
        Assert.Equal(expected, EncodedQuery.Where(field, value).ToString());
    }
}
