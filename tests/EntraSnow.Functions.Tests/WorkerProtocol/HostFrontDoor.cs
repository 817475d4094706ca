using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace EntraSnow.Functions.Tests.WorkerProtocol;

/// <summary>
/// The Functions host's public HTTP side: a request to <c>/api/{route}</c> is matched to the HTTP function with that
/// route (from the worker's own metadata) and forwarded to the worker as the host does, and the worker's answer goes
/// back to the caller. This is where Graph's validation handshakes reach the app.
/// </summary>
internal static class HostFrontDoor
{
    public static async Task ForwardAsync(FunctionsHostFixture host, HttpContext context, string route)
    {
        var function = host.Metadata.FunctionMetadataResults.FirstOrDefault(f => f.RawBindings
            .Select(b => JsonNode.Parse(b)!)
            .Any(b => (string?)b["type"] == "httpTrigger" && string.Equals((string?)b["route"], route, StringComparison.OrdinalIgnoreCase)));
        if (function is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), $"/api/{route}{context.Request.QueryString}")
        {
            Content = new ByteArrayContent(body.ToArray()),
        };
        if (context.Request.ContentType is { } contentType)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        var (response, _) = await host.SendHttpAsync(function.Name, request);
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } answered)
            {
                context.Response.ContentType = answered.ToString();
            }

            await response.Content.CopyToAsync(context.Response.Body);
        }
    }
}
