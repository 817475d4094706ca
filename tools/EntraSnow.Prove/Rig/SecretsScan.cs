using System.Text;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// Searches every file a run left behind (the local hosts' logs, their SQLite queues, checkpoints, provisioning logs and
/// webhook stores, and the ServiceNow emulator's database, which holds every record EntraSnow wrote) for each of the
/// run's secrets, as UTF-8 and as UTF-16.
/// </summary>
internal static class SecretsScan
{
    public sealed record Finding(string File, string Secret);

    public sealed record Result(int FilesSearched, long BytesSearched, IReadOnlyList<Finding> Findings);

    public static Result Run(string root, RunSecrets secrets)
    {
        var patterns = secrets.All
            .SelectMany(s => new[] { (s.Name, Bytes: Encoding.UTF8.GetBytes(s.Value)), (s.Name, Bytes: Encoding.Unicode.GetBytes(s.Value)) })
            .ToList();
        var findings = new List<Finding>();
        var files = 0;
        long bytes = 0;
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var content = File.ReadAllBytes(file);
            files++;
            bytes += content.Length;
            foreach (var name in patterns.Where(p => content.AsSpan().IndexOf(p.Bytes) >= 0).Select(p => p.Name).Distinct())
            {
                findings.Add(new Finding(Path.GetRelativePath(root, file), name));
            }
        }

        return new Result(files, bytes, findings);
    }
}
