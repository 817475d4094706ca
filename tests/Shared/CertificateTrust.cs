using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace EntraSnow.Tests.Shared;

/// <summary>An HttpClient that trusts one certificate and nothing else: not the machine's store, not a bypass.</summary>
internal static class CertificateTrust
{
    public static HttpClient TrustingOnly(string pemPath)
    {
        var root = X509Certificate2.CreateFromPem(File.ReadAllText(pemPath));
        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    // The name must match (localhost / 127.0.0.1); the chain is judged below against the one root only.
                    if (certificate is not X509Certificate2 presented || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(root);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(presented);
                },
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }
}
