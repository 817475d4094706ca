using System.Globalization;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// Writes every log line of an in-process local host to a file, with its scopes, state values and exception, at every
/// level: what the console would show and more, for the secrets scan.
/// </summary>
internal sealed class LogFileProvider(string path) : ILoggerProvider, ISupportExternalScope
{
    private readonly TextWriter _file = TextWriter.Synchronized(new StreamWriter(path, append: true) { AutoFlush = true });
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() => _file.Dispose();

    private sealed class FileLogger(LogFileProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<string>();
            owner._scopes.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? string.Empty), scopes);
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            owner._file.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {logLevel} {category} {formatter(state, exception)} | {values} | {string.Join(" => ", scopes)} {exception}"));
        }
    }
}
