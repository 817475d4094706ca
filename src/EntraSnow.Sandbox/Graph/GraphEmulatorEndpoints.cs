using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Sandbox.Graph;

public static class GraphEmulatorEndpoints
{
    /// <summary>Registers the Graph emulator (a singleton over its SQLite store) and the HTTP client it notifies subscribers with.</summary>
    public static IServiceCollection AddGraphEmulator(this IServiceCollection services, Action<GraphEmulatorOptions>? configure = null)
    {
        var options = services.AddOptions<GraphEmulatorOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(GraphEmulator.NotificationsHttpClient, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.TryAddSingleton<GraphEmulator>();
        services.TryAddSingleton<GraphApi>();
        return services;
    }

    /// <summary>
    /// Serves Graph under <c>{prefix}/v1.0/…</c>, the client-credentials token endpoint at
    /// <c>{prefix}/{tenant}/oauth2/v2.0/token</c>, and admin routes (seed, change, faults, lifecycle) under <c>{prefix}/admin</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapGraphEmulator(this IEndpointRouteBuilder endpoints, string prefix)
    {
        prefix = prefix.TrimEnd('/');
        var group = endpoints.MapGroup(prefix);

        group.MapPost("/{tenant}/oauth2/v2.0/token", IssueTokenAsync);
        group.MapMethods("/v1.0/{**path}", ["GET", "POST", "PATCH", "PUT", "DELETE"],
            (HttpContext context, string? path, GraphEmulator emulator, GraphApi api) => ServeAsync(context, prefix, path ?? "", emulator, api));

        var admin = group.MapGroup("/admin");
        admin.MapPost("/seed", (GraphSeedSpec spec, GraphEmulator emulator) =>
        {
            var result = emulator.Seed(spec);
            return Results.Ok(new
            {
                users = result.UserIds.Count,
                groups = result.GroupIds.Count,
                memberships = result.Memberships,
                riskDetections = result.RiskDetections,
                userIds = result.UserIds.Take(100),
                groupIds = result.GroupIds.Take(100),
            });
        });
        admin.MapGet("/mailbox", (GraphEmulator emulator) => Results.Ok(emulator.MailboxAndRoles.Mail));
        admin.MapDelete("/mailbox", (GraphEmulator emulator) =>
        {
            emulator.MailboxAndRoles.ClearMail();
            return Results.NoContent();
        });
        admin.MapPost("/users/{id}/roles/{roleDefinitionId}", (string id, string roleDefinitionId, GraphEmulator emulator) =>
            Results.Ok(new { id = emulator.MailboxAndRoles.AssignRole(id, roleDefinitionId) }));
        admin.MapPost("/users", async (NewUser user, GraphEmulator emulator, CancellationToken ct) =>
            Results.Ok(new { id = await emulator.CreateUserAsync(user.DisplayName, user.UserPrincipalName, ct) }));
        admin.MapPatch("/users/{id}", async (string id, JsonObject changes, GraphEmulator emulator, CancellationToken ct) =>
            await Deliveries(() => emulator.ChangeUserAsync(id, changes, ct)));
        admin.MapPost("/users/{id}/disable", async (string id, GraphEmulator emulator, CancellationToken ct) =>
            await Deliveries(() => emulator.DisableUserAsync(id, ct)));
        admin.MapDelete("/users/{id}", async (string id, bool? permanent, GraphEmulator emulator, CancellationToken ct) =>
            await Deliveries(() => permanent == true ? emulator.HardDeleteUserAsync(id, ct) : emulator.SoftDeleteUserAsync(id, ct)));
        // ?actor={userPrincipalName} or ?app={displayName}: who the directory audit log says made the change.
        admin.MapPost("/groups/{groupId}/members/{userId}", async (string groupId, string userId, string? actor, string? app, GraphEmulator emulator, CancellationToken ct) =>
            await Deliveries(() => emulator.AddGroupMemberAsync(groupId, userId, Initiator(emulator, actor, app), ct)));
        admin.MapDelete("/groups/{groupId}/members/{userId}", async (string groupId, string userId, string? actor, string? app, GraphEmulator emulator, CancellationToken ct) =>
            await Deliveries(() => emulator.RemoveGroupMemberAsync(groupId, userId, Initiator(emulator, actor, app), ct)));
        admin.MapPost("/subscriptions/{id}/lifecycle", async (string id, LifecycleRequest request, GraphEmulator emulator, CancellationToken ct) =>
        {
            try
            {
                return Results.Ok(await emulator.SendLifecycleNotificationAsync(id, request.LifecycleEvent, ct));
            }
            catch (KeyNotFoundException ex)
            {
                return Results.NotFound(new { error = ex.Message });
            }
        });
        admin.MapPost("/faults", (FaultRequest request, GraphEmulator emulator) =>
        {
            if (!Enum.TryParse<GraphFaultKind>(request.Kind, ignoreCase: true, out var kind))
            {
                return Results.BadRequest(new { error = "kind must be throttle, unavailable or latency." });
            }

            emulator.Faults.Add(new GraphFault
            {
                Kind = kind,
                Count = Math.Max(1, request.Count ?? 1),
                RetryAfter = request.RetryAfterSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                Latency = TimeSpan.FromMilliseconds(request.LatencyMs ?? 0),
                PathContains = request.PathContains,
                InsideBatch = request.InsideBatch ?? false,
            });
            return Results.Ok(new { pending = emulator.Faults.Pending });
        });
        admin.MapDelete("/faults", (GraphEmulator emulator) =>
        {
            emulator.Faults.Clear();
            return Results.NoContent();
        });
        admin.MapPost("/expire-delta-tokens", (GraphEmulator emulator) =>
        {
            emulator.ExpireDeltaTokens();
            return Results.NoContent();
        });
        GraphRiskDetectionAdmin.Map(admin);
        GraphDeliveryAdmin.Map(admin);
        admin.MapGet("/deliveries", (GraphEmulator emulator) => Results.Ok(emulator.Deliveries));
        admin.MapGet("/stats", (GraphEmulator emulator) =>
            Results.Ok(new { requests = emulator.RequestCount, userReads = emulator.UserReadCount, users = emulator.UserCount, subscriptions = emulator.Subscriptions.Count }));
        return endpoints;
    }

    private sealed record NewUser(string DisplayName, string? UserPrincipalName);

    private sealed record LifecycleRequest(string LifecycleEvent);

    private sealed record FaultRequest(string Kind, int? Count, int? RetryAfterSeconds, int? LatencyMs, string? PathContains, bool? InsideBatch);

    private static AuditInitiator Initiator(GraphEmulator emulator, string? actor, string? app) =>
        !string.IsNullOrWhiteSpace(app) ? AuditInitiator.App(app) : !string.IsNullOrWhiteSpace(actor) ? AuditInitiator.User(actor) : emulator.Administrator;

    private static async Task<IResult> Deliveries(Func<Task<IReadOnlyList<NotificationDelivery>>> change)
    {
        try
        {
            return Results.Ok(new { deliveries = await change() });
        }
        catch (KeyNotFoundException ex)
        {
            return Results.NotFound(new { error = ex.Message });
        }
    }

    private static async Task<IResult> IssueTokenAsync(HttpContext context, GraphEmulator emulator)
    {
        if (!context.Request.HasFormContentType)
        {
            return Results.BadRequest(new { error = "invalid_request", error_description = "Expected a form post." });
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != "client_credentials")
        {
            return Results.BadRequest(new { error = "unsupported_grant_type", error_description = "Only client_credentials is supported." });
        }

        var options = emulator.Options;
        if (options.ClientSecret is not null && (form["client_id"] != options.ClientId || form["client_secret"] != options.ClientSecret))
        {
            return Results.Json(new { error = "invalid_client", error_description = "Invalid client secret provided." }, statusCode: 401);
        }

        return Results.Json(new Dictionary<string, object>
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = 3599,
            ["ext_expires_in"] = 3599,
            ["access_token"] = emulator.IssueToken(),
        });
    }

    private static async Task ServeAsync(HttpContext context, string prefix, string path, GraphEmulator emulator, GraphApi api)
    {
        emulator.CountRequest();
        var request = context.Request;
        GraphResponse response;
        var authorized = !emulator.Options.RequireAuthorization || Authorized(request, emulator);
        var fault = authorized ? emulator.Faults.Take(path, insideBatch: false) : null;
        if (!authorized)
        {
            response = GraphResponse.Error(401, "InvalidAuthenticationToken", "Access token is empty or was not issued by this emulator.");
        }
        else if (fault is { Kind: not GraphFaultKind.Latency })
        {
            response = GraphApi.FaultResponse(fault);
        }
        else
        {
            if (fault is { Kind: GraphFaultKind.Latency })
            {
                await Task.Delay(fault.Latency, emulator.Clock, context.RequestAborted);
            }

            JsonNode? body = null;
            using (var reader = new StreamReader(request.Body))
            {
                var text = await reader.ReadToEndAsync(context.RequestAborted);
                if (text.Length > 0)
                {
                    try
                    {
                        body = JsonNode.Parse(text);
                    }
                    catch (JsonException)
                    {
                        await WriteAsync(context, GraphResponse.Error(400, "BadRequest", "Unable to read JSON request payload."));
                        return;
                    }
                }
            }

            var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var root = $"{request.Scheme}://{request.Host}{request.PathBase}{prefix}/v1.0";
            response = await api.HandleAsync(new GraphRequest(request.Method, path, query, body, root, MaxPageSize(request), EventuallyConsistent(request.Headers["ConsistencyLevel"])), context.RequestAborted);
        }

        await WriteAsync(context, response);
    }

    private static bool Authorized(HttpRequest request, GraphEmulator emulator)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && emulator.IsValidToken(header["Bearer ".Length..].Trim());
    }

    internal static bool EventuallyConsistent(string? consistencyLevel) =>
        string.Equals(consistencyLevel?.Trim(), "eventual", StringComparison.OrdinalIgnoreCase);

    /// <summary><c>Prefer: odata.maxpagesize=N</c>, which Graph honours up to its own cap.</summary>
    private static int? MaxPageSize(HttpRequest request)
    {
        foreach (var prefer in request.Headers["Prefer"].SelectMany(v => (v ?? "").Split(',')))
        {
            var parts = prefer.Trim().Split('=');
            if (parts.Length == 2 && parts[0].Trim() == "odata.maxpagesize"
                && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) && size > 0)
            {
                return size;
            }
        }

        return null;
    }

    private static async Task WriteAsync(HttpContext context, GraphResponse response)
    {
        context.Response.StatusCode = response.Status;
        foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        if (response.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.Body.ToJsonString(), context.RequestAborted);
        }
    }
}
