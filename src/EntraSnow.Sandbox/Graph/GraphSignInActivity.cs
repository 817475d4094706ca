namespace EntraSnow.Sandbox.Graph;

internal sealed partial class GraphApi
{
    /// <summary>Graph's answer to signInActivity in a tenant without Entra ID P1 (the same 403 family as a missing AuditLog.Read.All).</summary>
    private static GraphResponse SignInActivityRefused() => GraphResponse.Error(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Neither tenant is B2C or tenant doesn't have premium license");
}
