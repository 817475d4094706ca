using System.Globalization;

namespace EntraSnow.Benchmarks;

/// <summary>One option a benchmark takes: <c>--name N</c>, a whole number with a default and a least value, or a <c>--name</c> switch.</summary>
internal sealed record BenchmarkOption(string Name, int Default, int Minimum, bool IsSwitch)
{
    public static BenchmarkOption Number(string name, int fallback, int minimum = 1) => new(name, fallback, minimum, IsSwitch: false);

    public static BenchmarkOption Switch(string name) => new(name, 0, 0, IsSwitch: true);

    public override string ToString() => IsSwitch
        ? $"[{Name}]"
        : string.Create(CultureInfo.InvariantCulture, $"[{Name} N (default {Default})]");
}

/// <summary>
/// A benchmark's command line, read against the options it declares: every benchmark takes its options the same way,
/// and a mistyped or malformed one stops the run with a message instead of quietly running with the default.
/// </summary>
internal sealed class BenchmarkArguments
{
    private readonly IReadOnlyList<BenchmarkOption> _declared;
    private readonly Dictionary<string, int> _numbers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _switches = new(StringComparer.Ordinal);

    private BenchmarkArguments(IReadOnlyList<BenchmarkOption> declared) => _declared = declared;

    /// <summary>Reads <paramref name="args"/>; on a mistake returns false with a one-line message saying what is wrong.</summary>
    public static bool TryParse(IReadOnlyList<string> args, IReadOnlyList<BenchmarkOption> declared, out BenchmarkArguments arguments, out string error)
    {
        arguments = new BenchmarkArguments(declared);
        error = "";
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            var option = declared.FirstOrDefault(o => o.Name == name);
            if (option is null)
            {
                error = name.StartsWith("--", StringComparison.Ordinal) ? $"unknown option '{name}'" : $"unexpected argument '{name}'";
                return false;
            }

            if (arguments._numbers.ContainsKey(name) || arguments._switches.Contains(name))
            {
                error = $"{name} is given twice";
                return false;
            }

            if (option.IsSwitch)
            {
                arguments._switches.Add(name);
                continue;
            }

            if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                error = $"{name} needs a value (a whole number)";
                return false;
            }

            var text = args[++i];
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < option.Minimum)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"{name} takes a whole number of at least {option.Minimum}, not '{text}'");
                return false;
            }

            arguments._numbers[name] = value;
        }

        return true;
    }

    /// <summary>The value given for a declared <c>--name N</c> option, or its default.</summary>
    public int Number(string name) => _numbers.TryGetValue(name, out var value) ? value : Declared(name).Default;

    /// <summary>Whether a declared switch was given.</summary>
    public bool Switch(string name) => Declared(name).IsSwitch && _switches.Contains(name);

    private BenchmarkOption Declared(string name) => _declared.FirstOrDefault(o => o.Name == name)
        ?? throw new ArgumentException($"The benchmark reads {name} but does not declare it.", nameof(name));
}
