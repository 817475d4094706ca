using System.Diagnostics;

namespace EntraSnow.Infra.Tests;

/// <summary>
/// Runs an azd hook script with a stand-in <c>az</c> first on PATH: it records every call and answers from files in
/// a temporary folder, so the hooks' logic runs for real without Azure. jq, openssl and sh are the machine's own.
/// </summary>
internal sealed class FakeAzureCli : IDisposable
{
    private const string Script = """
        #!/bin/sh
        # Stand-in for the Azure CLI: logs the call, answers from $FAKE_AZ.
        printf '%s\n' "$*" >> "$FAKE_AZ/calls.log"
        arg() { want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { printf '%s' "$2"; return; }; shift; done; }
        case "$1 $2" in
          "cloud show") echo "https://graph.microsoft.com/" ;;
          "ad sp") cat "$FAKE_AZ/graph-sp.json" ;;
          "rest --method")
            case "$3" in
              get) cat "$FAKE_AZ/granted.tsv" ;;
              post)
                if [ -f "$FAKE_AZ/deny" ]; then
                  echo 'ERROR: Forbidden({"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}})' >&2
                  exit 1
                fi
                arg --body "$@" >> "$FAKE_AZ/granted-bodies.log"; echo >> "$FAKE_AZ/granted-bodies.log" ;;
            esac ;;
          "keyvault secret")
            name=$(arg --name "$@")
            case "$3" in
              show) [ -f "$FAKE_AZ/secret-$name" ] || exit 3; echo "https://vault/secrets/$name" ;;
              set) cp "$(arg --file "$@")" "$FAKE_AZ/secret-$name" ;;
            esac ;;
          "eventgrid partner")
            case "$3 $4" in
              "topic show") [ -f "$FAKE_AZ/topic-state" ] || exit 3; cat "$FAKE_AZ/topic-state" ;;
              "topic activate") echo Activated > "$FAKE_AZ/topic-state" ;;
              "topic event-subscription") ;;
            esac ;;
          *) echo "fake az: unexpected call: $*" >&2; exit 2 ;;
        esac
        """;

    public FakeAzureCli()
    {
        Folder = Directory.CreateTempSubdirectory("entrasnow-fake-az-").FullName;
        var az = Path.Combine(Folder, "az");
        File.WriteAllText(az, Script.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(az, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.WriteAllText(Path.Combine(Folder, "granted.tsv"), "");
    }

    public string Folder { get; }

    public string Calls => ReadOrEmpty("calls.log");

    public string GrantBodies => ReadOrEmpty("granted-bodies.log");

    public bool HasSecret(string name) => File.Exists(Path.Combine(Folder, $"secret-{name}"));

    public string Secret(string name) => File.ReadAllText(Path.Combine(Folder, $"secret-{name}"));

    public void SetSecret(string name, string value) => File.WriteAllText(Path.Combine(Folder, $"secret-{name}"), value);

    public void Write(string file, string content) => File.WriteAllText(Path.Combine(Folder, file), content);

    public async Task<(int ExitCode, string Output, string Error)> RunAsync(string script, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("sh")
        {
            RedirectStandardInput = true, // not a terminal: the hooks must not prompt
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        start.ArgumentList.Add(Repository.PathOf(script));
        start.Environment["PATH"] = $"{Folder}:{Environment.GetEnvironmentVariable("PATH")}";
        start.Environment["FAKE_AZ"] = Folder;
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private string ReadOrEmpty(string file)
    {
        var path = Path.Combine(Folder, file);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }
}
