using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Intake;

/// <summary>
/// Compares a notification's clientState with the configured secrets in constant time. Both sides are hashed first,
/// so neither content nor length leaks through timing.
/// </summary>
public sealed class ClientStateCheck
{
    private readonly byte[][] _accepted;

    public ClientStateCheck(IOptions<GraphIntakeOptions> options)
    {
        var settings = options.Value;
        _accepted = new[] { settings.ClientState, settings.PreviousClientState }
            .Where(s => !string.IsNullOrEmpty(s))
            .Select(s => Hash(s!))
            .ToArray();
    }

    public bool IsAccepted(string? clientState)
    {
        var candidate = Hash(clientState ?? string.Empty);
        var match = false;
        foreach (var accepted in _accepted)
        {
            // No early exit: every configured secret is compared every time.
            match |= CryptographicOperations.FixedTimeEquals(candidate, accepted);
        }

        return match && !string.IsNullOrEmpty(clientState);
    }

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
