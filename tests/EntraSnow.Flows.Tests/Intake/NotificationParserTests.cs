using EntraSnow.Tests.Shared;
using EntraSnow.Flows.Intake;
using EntraSnow.Flows.Tests.Support;

namespace EntraSnow.Flows.Tests.Intake;

public sealed class NotificationParserTests
{
    [Fact]
    public void Unknown_properties_in_real_traffic_are_ignored()
    {
        var items = NotificationParser.ParseCollection("""{"value":[{"changeType":"updated","newThing":{"a":1},"resource":"Users/x"}],"validationTokens":["t"]}"""u8);

        Assert.Equal("updated", Assert.Single(items).ChangeType);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"value\": [")]
    [InlineData("{\"items\": []}")]
    [InlineData("{\"value\": {}}")]
    [InlineData("null")]
    public void Malformed_body_is_a_format_error_with_a_reason(string body)
    {
        var error = Assert.Throws<NotificationFormatException>(() => NotificationParser.ParseCollection(System.Text.Encoding.UTF8.GetBytes(body)));

        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public void Event_Grid_sample_yields_one_user_event_with_its_notification()
    {
        var events = GraphCloudEvents.Parse(Samples.GraphSampleBytes("eventgrid-user-updated.json"));

        var cloudEvent = Assert.Single(events);
        Assert.Equal("Microsoft.Graph.UserUpdated", cloudEvent.Type);
        Assert.Equal("Users/" + Samples.UserId, GraphCloudEvents.ToNotification(cloudEvent).Resource);
    }

    [Theory]
    [InlineData("""{"id":"1","source":"s","type":"Microsoft.Graph.UserUpdated","data":{}}""")]
    [InlineData("""{"specversion":"0.3","id":"1","source":"s","type":"t","data":{}}""")]
    [InlineData("""{"specversion":"1.0","source":"s","type":"t","data":{}}""")]
    [InlineData("""{"specversion":"1.0","id":"1","source":"s","type":"t"}""")]
    [InlineData("""[1,2]""")]
    public void Cloud_event_missing_required_attributes_is_refused(string body)
    {
        Assert.Throws<NotificationFormatException>(() => GraphCloudEvents.Parse(System.Text.Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void Reauthorization_cloud_event_without_lifecycleEvent_in_its_data_is_read_as_a_lifecycle_notification()
    {
        var cloudEvent = new GraphCloudEvent("Microsoft.Graph.SubscriptionReauthorizationRequired", null,
            """{"subscriptionId":"5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a","clientState":"x"}"""u8.ToArray());

        Assert.Equal("reauthorizationRequired", GraphCloudEvents.ToNotification(cloudEvent).LifecycleEvent);
    }
}
