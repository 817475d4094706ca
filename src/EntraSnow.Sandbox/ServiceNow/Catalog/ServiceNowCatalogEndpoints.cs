using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Sandbox.ServiceNow.Catalog;

/// <summary>
/// Admin routes that "submit" a catalog request on the emulated portal:
/// <c>POST {prefix}/sandbox-admin/catalog/password-reset</c> and <c>…/catalog/access-request</c>; and an approver's
/// decision on a change: <c>POST {prefix}/sandbox-admin/change_request/{sys_id}/approve</c> or <c>…/reject</c>
/// (body <c>{"reason":"…"}</c>, optional).
/// </summary>
public static class ServiceNowCatalogEndpoints
{
    public static IServiceCollection AddServiceNowEmulatorCatalog(this IServiceCollection services)
    {
        services.AddOptions<ServiceNowEmulatorWebhookOptions>()
            .Configure<IServiceProvider>((o, sp) => sp.GetService<IConfiguration>()?.GetSection(ServiceNowEmulatorWebhookOptions.Section).Bind(o));
        services.AddHttpClient(ServiceNowWebhookSender.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.TryAddSingleton<ServiceNowWebhookSender>();
        services.TryAddSingleton<ServiceNowCatalog>();
        services.TryAddSingleton<ServiceNowChangeApprovals>();
        return services;
    }

    public static void MapCatalogAdmin(RouteGroupBuilder admin)
    {
        admin.MapPost("/catalog/password-reset", (ServiceNowCatalog catalog, CatalogSubmission submission, CancellationToken ct) =>
            Submit(() => catalog.SubmitPasswordResetAsync(submission, ct)));
        admin.MapPost("/catalog/access-request", (ServiceNowCatalog catalog, CatalogSubmission submission, CancellationToken ct) =>
            Submit(() => catalog.SubmitAccessRequestAsync(submission, ct)));
        admin.MapPost("/change_request/{sysId}/approve", (ServiceNowChangeApprovals approvals, string sysId, ChangeApprovalDecision? decision, CancellationToken ct) =>
            Submit(() => approvals.DecideAsync(sysId, approve: true, decision?.Reason, ct)));
        admin.MapPost("/change_request/{sysId}/reject", (ServiceNowChangeApprovals approvals, string sysId, ChangeApprovalDecision? decision, CancellationToken ct) =>
            Submit(() => approvals.DecideAsync(sysId, approve: false, decision?.Reason, ct)));
    }

    private static async Task<IResult> Submit<T>(Func<Task<T>> submit)
    {
        try
        {
            return Results.Json(await submit(), CatalogJson.Options);
        }
        catch (CatalogSubmissionException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The submission is not valid.", detail: ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "EntraSnow could not be reached.", detail: ex.Message);
        }
    }
}
