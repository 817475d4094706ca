using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using EntraSnow.Sandbox.ServiceNow.Catalog;

namespace EntraSnow.Sandbox.ServiceNow;

public static class ServiceNowEmulatorExtensions
{
    /// <summary>
    /// Registers the emulator's store, faults, counters and token issuer. Options come from "Sandbox:ServiceNow" when a
    /// configuration is registered, then from <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddServiceNowEmulator(this IServiceCollection services, Action<ServiceNowEmulatorOptions>? configure = null)
    {
        var options = services.AddOptions<ServiceNowEmulatorOptions>()
            .Configure<IServiceProvider>((o, sp) => sp.GetService<IConfiguration>()?.GetSection("Sandbox:ServiceNow").Bind(o));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ServiceNowEmulatorStore(
            sp.GetRequiredService<IOptions<ServiceNowEmulatorOptions>>().Value.DatabasePath,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new ServiceNowFaults(
            TimeSpan.FromMilliseconds(Math.Max(0, sp.GetRequiredService<IOptions<ServiceNowEmulatorOptions>>().Value.LatencyMs))));
        services.TryAddSingleton<ServiceNowRateLimitRule>();
        services.TryAddSingleton<ServiceNowRecordAcl>();
        services.TryAddSingleton<ServiceNowEmulatorCounters>();
        services.TryAddSingleton<ServiceNowDictionary>();
        services.TryAddSingleton<ServiceNowTokenIssuer>();
        services.TryAddSingleton<ServiceNowCredentials>();
        services.TryAddSingleton<ServiceNowIntegrationUser>();
        services.AddServiceNowEmulatorCatalog();
        return services;
    }

    /// <summary>
    /// Maps <c>{prefix}/api/now/table/…</c> (also <c>/api/now/v1/table</c> and <c>/api/now/v2/table</c>),
    /// <c>{prefix}/oauth_token.do</c> and the admin routes <c>{prefix}/sandbox-admin/{faults,counters,seed,tokens/expire,catalog/…}</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapServiceNowEmulator(this IEndpointRouteBuilder endpoints, string prefix)
    {
        prefix = "/" + prefix.Trim('/');
        if (prefix == "/")
        {
            prefix = string.Empty;
        }

        var handlers = new ServiceNowEmulatorEndpoints(prefix);
        var root = endpoints.MapGroup(prefix.Length == 0 ? "/" : prefix);

        var served = root.MapGroup("/").AddEndpointFilter(ServiceNowEmulatorEndpoints.InjectFaults);
        Func<HttpContext, Task<IResult>> issueToken = ServiceNowEmulatorEndpoints.IssueToken; // a Delegate, so the IResult is written
        served.MapPost("/oauth_token.do", issueToken);

        var api = served.MapGroup("/api/now").AddEndpointFilter(ServiceNowEmulatorEndpoints.GuardTable);
        foreach (var version in ServiceNowEmulatorEndpoints.Versions)
        {
            var v1 = version == "v1/table";
            api.MapGet($"/{version}/{{table}}", (HttpContext http, string table) => handlers.List(http, table, v1));
            api.MapPost($"/{version}/{{table}}", (HttpContext http, string table) => handlers.Create(http, table));
            api.MapGet($"/{version}/{{table}}/{{sysId}}", (HttpContext http, string table, string sysId) => handlers.Get(http, table, sysId));
            api.MapMethods($"/{version}/{{table}}/{{sysId}}", ["PATCH", "PUT"], (HttpContext http, string table, string sysId) => handlers.Update(http, table, sysId));
            api.MapDelete($"/{version}/{{table}}/{{sysId}}", (HttpContext http, string table, string sysId) => ServiceNowEmulatorEndpoints.Delete(http, table, sysId));
        }

        // Sandbox administration: no auth, no faults (the sandbox listens on loopback only).
        var admin = root.MapGroup("/sandbox-admin");
        admin.MapGet("/faults", (ServiceNowFaults faults) => Results.Json(faults.Snapshot()));
        admin.MapPost("/faults", (ServiceNowFaults faults, ServiceNowFaultSettings settings) =>
        {
            faults.Apply(settings);
            return Results.Json(faults.Snapshot());
        });
        admin.MapDelete("/faults", (ServiceNowFaults faults) =>
        {
            faults.Reset();
            return Results.Json(faults.Snapshot());
        });
        admin.MapGet("/counters", (ServiceNowEmulatorCounters counters) => Results.Json(counters.Snapshot()));
        admin.MapDelete("/counters", (ServiceNowEmulatorCounters counters) =>
        {
            counters.Reset();
            return Results.NoContent();
        });
        admin.MapPost("/seed", (ServiceNowEmulatorStore store) => Results.Json(ServiceNowSeed.SeedReferenceData(store)));
        ServiceNowCatalogEndpoints.MapCatalogAdmin(admin);
        ServiceNowCredentials.MapAdmin(admin);
        admin.MapPost("/tokens/expire", (ServiceNowTokenIssuer tokens) =>
        {
            tokens.ExpireAll();
            return Results.NoContent();
        });
        return endpoints;
    }
}
