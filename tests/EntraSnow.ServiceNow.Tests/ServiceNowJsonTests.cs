using System.Text.Json;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.ServiceNow.Tests;

/// <summary>The connector reads answers in the documented shapes (tests/Fixtures/servicenow), not only the emulator's rendering of them.</summary>
public sealed class ServiceNowJsonTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "servicenow", name);

    private static ServiceNowRecord ReadSample(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture(name)));
        return Assert.Single(ServiceNowJson.ReadResult(json.RootElement));
    }

    [Fact]
    public void A_documented_user_reads_references_as_sys_ids_and_an_unset_reference_as_empty()
    {
        var user = ReadSample("sys_user-get.json");

        Assert.Equal("5b0e3c7a9d1f42e68a4c2b0d9e7f1a36", user.SysId);
        Assert.Equal("0d7f3b1e5a9c4e28b6d0a2f4c8e1b357", user["department"]);
        Assert.Equal("8c2e6a0f4b1d4937a5e3c7b9d1f0a264", user["location"]);
        Assert.Equal(string.Empty, user["manager"]);
        Assert.Equal("mira.lindqvist@fabrikam.example", user["user_name"]);
    }

    [Fact]
    public void A_documented_display_value_all_answer_reads_values_and_display_values()
    {
        var user = ReadSample("sys_user-get-display-all.json");

        Assert.Equal("5b0e3c7a9d1f42e68a4c2b0d9e7f1a36", user.SysId);
        Assert.Equal("0d7f3b1e5a9c4e28b6d0a2f4c8e1b357", user["department"]);
        Assert.Equal("Field Sales", user.DisplayValues["department"]);
        Assert.Equal(string.Empty, user["manager"]);
        Assert.Equal("true", user["active"]);
    }

    [Fact]
    public void A_documented_created_incident_reads_its_number_and_references()
    {
        var incident = ReadSample("incident-created.json");

        Assert.Equal("INC0010311", incident["number"]);
        Assert.Equal("5b0e3c7a9d1f42e68a4c2b0d9e7f1a36", incident["caller_id"]);
        Assert.Equal("f3c5e7a9b1d04f628e0a2c4b6d8f1e93", incident["assignment_group"]);
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
        var (readMessage, readDetail) = ServiceNowJson.ReadError(File.ReadAllText(Fixture(sample)));

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
