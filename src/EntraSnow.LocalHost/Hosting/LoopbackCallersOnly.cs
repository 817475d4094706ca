using System.Net;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>
/// Refuses (403) a call that does not come from this machine. For the local host's control routes that another local
/// process calls (a command telling the serving host it queued or replayed work): they carry no secret, because they
/// change no data, so where the call comes from is the whole check.
/// </summary>
internal sealed class LoopbackCallersOnly : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Connection.RemoteIpAddress is { } caller && IPAddress.IsLoopback(caller)
            ? next(context)
            : ValueTask.FromResult<object?>(Results.StatusCode(StatusCodes.Status403Forbidden));
}
