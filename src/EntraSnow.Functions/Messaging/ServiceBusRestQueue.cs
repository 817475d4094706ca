using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Core;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Messaging;

/// <summary>
/// The queue port in Azure: the Service Bus REST API (Send Message, Send Message Batch) with the managed identity's token.
/// The HTTP functions write through it and answer only after Service Bus said 201, instead of relying on output bindings
/// (a failed output binding can still reach the caller as a 2xx, Azure/azure-functions-dotnet-worker#3269).
/// </summary>
internal sealed class ServiceBusRestQueue(HttpClient http, TokenCredential credential, IOptions<ServiceBusOptions> options) : IMessageQueue
{
    private static readonly string[] Scopes = ["https://servicebus.azure.net/.default"];
    private readonly SemaphoreSlim _tokenGate = new(1, 1);
    private AccessToken _token;

    public async Task SendAsync(string queue, IReadOnlyList<ChangeMessage> messages, CancellationToken cancellationToken = default)
    {
        foreach (var chunk in messages.Chunk(options.Value.MaxBatchSize))
        {
            var batch = chunk.Select(m => new Dictionary<string, object?>
            {
                ["Body"] = ChangeMessageJson.Serialize(m),
                ["BrokerProperties"] = BrokerProperties(m, visibleAt: null),
                ["UserProperties"] = new Dictionary<string, string> { ["kind"] = m.Kind, ["subjectId"] = m.SubjectId },
            });
            using var content = new StringContent(JsonSerializer.Serialize(batch), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.microsoft.servicebus.json");
            await PostAsync(queue, content, brokerProperties: null, cancellationToken);
        }
    }

    public async Task ScheduleAsync(string queue, ChangeMessage message, DateTimeOffset visibleAt, CancellationToken cancellationToken = default)
    {
        using var content = new StringContent(ChangeMessageJson.Serialize(message), Encoding.UTF8, "application/json");
        await PostAsync(queue, content, JsonSerializer.Serialize(BrokerProperties(message, visibleAt)), cancellationToken);
    }

    private async Task PostAsync(string queue, HttpContent content, string? brokerProperties, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Value.BaseUri, $"{Uri.EscapeDataString(queue)}/messages?api-version=2015-01"))
        {
            Content = content,
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(cancellationToken));
        if (brokerProperties is not null)
        {
            request.Headers.TryAddWithoutValidation("BrokerProperties", brokerProperties);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            var detail = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException(
                $"Service Bus refused the send to '{queue}': {(int)response.StatusCode} {response.ReasonPhrase}. {Truncate(detail)}",
                null, response.StatusCode);
        }
    }

    private static Dictionary<string, object?> BrokerProperties(ChangeMessage message, DateTimeOffset? visibleAt)
    {
        var properties = new Dictionary<string, object?>
        {
            ["MessageId"] = message.MessageId,
            // The queues are session-enabled: one object's messages are processed one at a time.
            ["SessionId"] = message.SessionKey,
            ["CorrelationId"] = message.CorrelationId,
            ["Label"] = message.Kind,
        };
        if (visibleAt is { } at)
        {
            properties["ScheduledEnqueueTimeUtc"] = at.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
        }

        return properties;
    }

    private async Task<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (_token.ExpiresOn > DateTimeOffset.UtcNow.AddMinutes(5))
        {
            return _token.Token;
        }

        await _tokenGate.WaitAsync(cancellationToken);
        try
        {
            if (_token.ExpiresOn <= DateTimeOffset.UtcNow.AddMinutes(5))
            {
                _token = await credential.GetTokenAsync(new TokenRequestContext(Scopes), cancellationToken);
            }

            return _token.Token;
        }
        finally
        {
            _tokenGate.Release();
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300];
}
