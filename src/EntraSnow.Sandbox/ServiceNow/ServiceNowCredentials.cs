using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// The integration account's credentials as the instance sees them. Revoked (its OAuth secret rotated, its password
/// changed, the account locked out), every token in hand stops working and every token request and Basic call is
/// refused with 401 until they are restored: what EntraSnow meets when a secret is rotated in the middle of its work.
/// </summary>
public sealed class ServiceNowCredentials(ServiceNowTokenIssuer tokens)
{
    private volatile bool _revoked;

    public bool Revoked => _revoked;

    public void Revoke()
    {
        _revoked = true;
        tokens.ExpireAll();
    }

    public void Restore() => _revoked = false;

    /// <summary><c>POST {admin}/credentials/revoke</c> and <c>POST {admin}/credentials/restore</c>.</summary>
    internal static void MapAdmin(RouteGroupBuilder admin)
    {
        admin.MapPost("/credentials/revoke", (ServiceNowCredentials credentials) =>
        {
            credentials.Revoke();
            return Results.NoContent();
        });
        admin.MapPost("/credentials/restore", (ServiceNowCredentials credentials) =>
        {
            credentials.Restore();
            return Results.NoContent();
        });
    }
}
