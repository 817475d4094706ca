using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// Admin routes to stage Identity Protection scenarios: <c>POST /admin/risk-detections</c>
/// <c>{userId, riskLevel, riskEventType, ipAddress?}</c> answers the new detection as Graph would list it;
/// <c>PATCH /admin/risk-detections/{id}</c> <c>{riskState}</c> answers it changed.
/// </summary>
internal static class GraphRiskDetectionAdmin
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/risk-detections", (NewRiskDetection request, GraphEmulator emulator) =>
        {
            try
            {
                return emulator.CreateRiskDetection(request.UserId, request.RiskLevel ?? "high", request.RiskEventType ?? "unfamiliarFeatures", request.IpAddress) is { } detection
                    ? Results.Json(detection, statusCode: StatusCodes.Status201Created)
                    : Results.NotFound(new { error = $"No user {request.UserId} in the Graph emulator." });
            }
            catch (ArgumentException ex)
            {
                return Results.BadRequest(new { error = ex.Message });
            }
        });
        admin.MapPatch("/risk-detections/{id}", (string id, RiskStateChange request, GraphEmulator emulator) =>
        {
            try
            {
                return emulator.ChangeRiskState(id, request.RiskState) is { } detection
                    ? Results.Json(detection)
                    : Results.NotFound(new { error = $"No risk detection {id} in the Graph emulator." });
            }
            catch (ArgumentException ex)
            {
                return Results.BadRequest(new { error = ex.Message });
            }
        });
    }

    private sealed record NewRiskDetection(string UserId, string? RiskLevel, string? RiskEventType, string? IpAddress);

    private sealed record RiskStateChange(string RiskState);
}
