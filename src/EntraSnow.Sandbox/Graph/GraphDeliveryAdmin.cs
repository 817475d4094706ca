using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// Admin routes that play Graph's at-least-once delivery: <c>POST /admin/deliveries/retry</c> sends again every change
/// notification the subscriber did not acknowledge; <c>POST /admin/deliveries/repeat</c> <c>{count, seed}</c> sends the
/// last acknowledged ones again, shuffled.
/// </summary>
internal static class GraphDeliveryAdmin
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/deliveries/retry", async (GraphEmulator emulator, CancellationToken ct) =>
            Results.Ok(new { deliveries = await emulator.RetryUndeliveredAsync(ct), undelivered = emulator.UndeliveredCount }));
        admin.MapPost("/deliveries/repeat", async (RepeatRequest request, GraphEmulator emulator, CancellationToken ct) =>
            Results.Ok(new { deliveries = await emulator.DeliverAgainAsync(Math.Max(0, request.Count), request.Seed ?? 1, ct) }));
    }

    private sealed record RepeatRequest(int Count, int? Seed);
}
