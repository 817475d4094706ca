using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EntraSnow.Sandbox.Https;

/// <summary>
/// The emulators' development certificate for HTTPS: self-signed, for localhost, 127.0.0.1 and ::1, kept in the data
/// folder so it stays the same across restarts (a client told to trust it once keeps trusting it). Real clients (the
/// Microsoft Graph JavaScript client, ServiceNow's pysnc) refuse plain HTTP, and they trust it through the PEM file
/// <see cref="ExportPem"/> writes. It is marked as its own certificate authority, as <c>openssl req -x509</c> makes one,
/// so tools that only accept a CA file (Node's NODE_EXTRA_CA_CERTS, Python's strict verification) take it too.
/// </summary>
public static class SandboxCertificate
{
    public const string PfxFileName = "sandbox-https.pfx";

    public const string PemFileName = "sandbox-https.crt";

    public const string Subject = "CN=EntraSnow sandbox (development only)";

    /// <summary>Within this of its end the certificate is replaced by a new one (the client must trust the new file).</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);

    /// <summary>The certificate in <paramref name="folder"/>, made there first if it is missing or about to expire.</summary>
    public static X509Certificate2 LoadOrCreate(string folder, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, PfxFileName);
        if (File.Exists(path))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
            if (existing.NotAfter.ToUniversalTime() - now.UtcDateTime > RenewBefore)
            {
                return existing;
            }

            existing.Dispose();
        }

        using var created = Create(now);
        // Written beside and moved into place, so a process reading it never sees half a file; only the owner may read the key.
        var temporary = Path.Combine(folder, $"{PfxFileName}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(temporary, created.Export(X509ContentType.Pkcs12));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
        return X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
    }

    /// <summary>Writes the certificate (never its key) as PEM to <paramref name="path"/>; returns the full path.</summary>
    public static string ExportPem(X509Certificate2 certificate, string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, certificate.ExportCertificatePem() + "\n");
        return full;
    }

    /// <summary>What to tell a person who wants a client to trust the emulators over HTTPS.</summary>
    public static string TrustInstructions(string pemPath, X509Certificate2 certificate, IEnumerable<string> httpsUrls) => $"""
        Wrote the sandbox's development certificate to {pemPath}
          subject {certificate.Subject}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd} UTC
          SHA-256 {certificate.GetCertHashString(HashAlgorithmName.SHA256)}
        HTTPS: {string.Join(", ", httpsUrls)}

        Trust it in one client only (nothing else on the machine changes):
          curl:                 curl --cacert {pemPath} ...
          Node (Graph JS client): NODE_EXTRA_CA_CERTS={pemPath} node app.js
          Python (pysnc, requests): REQUESTS_CA_BUNDLE={pemPath} python app.py
          .NET:                 trust it as the custom root of an HttpClient's certificate chain
        Or the whole machine (Debian/Ubuntu):
          sudo cp {pemPath} /usr/local/share/ca-certificates/entrasnow-sandbox.crt && sudo update-ca-certificates
        It is a development certificate for this machine's loopback only: never trust it anywhere else.
        """;

    private static X509Certificate2 Create(DateTimeOffset now)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(Subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication") }, critical: false));
        var subjectKey = new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false);
        request.CertificateExtensions.Add(subjectKey);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKey));
        return request.CreateSelfSigned(now.AddMinutes(-5), now + Lifetime);
    }
}
