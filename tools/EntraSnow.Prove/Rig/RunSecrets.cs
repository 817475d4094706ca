using System.Security.Cryptography;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// Secrets made for one proof run and configured on both sides (the emulators accept only them, the local host is given
/// them), each unique, so a scan of everything the run left behind can tell whether any of them leaked.
/// </summary>
internal sealed record RunSecrets(string GraphClientSecret, string GraphClientState, string ServiceNowClientSecret, string WebhookSigningSecret)
{
    public static RunSecrets New() => new(Make("graph-client-secret"), Make("graph-client-state"), Make("servicenow-client-secret"), Make("webhook-signing-secret"));

    public IReadOnlyList<(string Name, string Value)> All =>
    [
        ("Graph:ClientSecret", GraphClientSecret),
        ("Graph:ClientState", GraphClientState),
        ("ServiceNow:ClientSecret", ServiceNowClientSecret),
        ("ServiceNowWebhook:SigningSecret", WebhookSigningSecret),
    ];

    private static string Make(string what) => $"prove-{what}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";
}
