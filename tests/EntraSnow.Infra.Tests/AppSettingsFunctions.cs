using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EntraSnow.Infra.Tests;

/// <summary>
/// Calls the functions of infra/app/app-settings.bicep (what APP_SETTINGS may set, and how it joins the deployment's own
/// settings) offline, through <c>bicep console</c>: the file's declarations are read as they are, each expression's
/// value comes from the ARM expression engine, and a <c>fail()</c> comes back as the message a deployment would show.
/// </summary>
internal static partial class AppSettingsFunctions
{
    public sealed record Evaluation(string? Value, string? Error)
    {
        /// <summary>The value as a JSON object whose names compare case-insensitively, as app setting names do.</summary>
        public JsonObject Object => JsonNode.Parse(Value ?? throw new InvalidOperationException($"no value: {Error}"), new JsonNodeOptions { PropertyNameCaseInsensitive = true })!.AsObject();
    }

    /// <summary>Why APP_SETTINGS may not set each name (empty when it may), in the order given.</summary>
    public static async Task<IReadOnlyList<string>> RefusalsAsync(IEnumerable<string> names) =>
        (await EvaluateAsync([.. names.Select(name => $"refusal({Literal(name)})")])).Select(e => e.Value ?? throw new InvalidOperationException(e.Error)).ToList();

    /// <summary>Each expression's value as JSON text (a string as itself), or the message it failed with.</summary>
    public static async Task<IReadOnlyList<Evaluation>> EvaluateAsync(params string[] expressions)
    {
        var input = new StringBuilder(Declarations());
        foreach (var expression in expressions)
        {
            input.Append("string(").Append(expression).Append(")\n");
        }

        var result = await BicepCli.ConsoleAsync(Repository.PathOf("infra", "app"), input.ToString());
        var evaluations = new List<Evaluation>();
        foreach (var line in (result.StandardOutput + result.StandardError).Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (line.StartsWith('\'') && line.EndsWith('\''))
            {
                evaluations.Add(new Evaluation(Unescape(line[1..^1]), null));
            }
            else if (FailedEvaluation().Match(line) is { Success: true } failed)
            {
                evaluations.Add(new Evaluation(null, failed.Groups["message"].Value));
            }
            else if (line.TrimStart().StartsWith('~'))
            {
                throw new InvalidOperationException($"bicep console refused app-settings.bicep or an expression:\n{result.StandardOutput}\n{result.StandardError}");
            }
        }

        Assert.True(evaluations.Count == expressions.Length, $"bicep console answered {evaluations.Count} of {expressions.Length} expressions:\n{result.StandardOutput}\n{result.StandardError}");
        return evaluations;
    }

    /// <summary>A Bicep expression for a JSON value: <c>json('...')</c>.</summary>
    public static string Json(JsonNode node) => $"json({Literal(node.ToJsonString())})";

    /// <summary>A Bicep string literal.</summary>
    public static string Literal(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal).Replace("${", "\\${", StringComparison.Ordinal) + "'";

    /// <summary>
    /// The file's declarations as the console reads them: one per line (an expression's continuation lines, indented, are
    /// joined to it, which Bicep reads the same), without the <c>@export()</c> decorators and comment lines.
    /// </summary>
    private static string Declarations()
    {
        var lines = new List<string>();
        foreach (var line in Repository.ReadText("infra", "app", "app-settings.bicep").ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.StartsWith("//", StringComparison.Ordinal) || line.Trim() == "@export()")
            {
                continue;
            }

            if (line.StartsWith(' ') && lines.Count > 0)
            {
                lines[^1] += " " + line.Trim();
            }
            else
            {
                lines.Add(line);
            }
        }

        return string.Join('\n', lines) + "\n";
    }

    private static string Unescape(string literal)
    {
        var text = new StringBuilder(literal.Length);
        for (var i = 0; i < literal.Length; i++)
        {
            if (literal[i] != '\\' || i == literal.Length - 1)
            {
                text.Append(literal[i]);
                continue;
            }

            var escaped = literal[++i];
            switch (escaped)
            {
                case 'n': text.Append('\n'); break;
                case 'r': text.Append('\r'); break;
                case 't': text.Append('\t'); break;
                case 'u' when i + 1 < literal.Length && literal[i + 1] == '{':
                    var end = literal.IndexOf('}', i);
                    text.Append(char.ConvertFromUtf32(Convert.ToInt32(literal[(i + 2)..end], 16)));
                    i = end;
                    break;
                default: text.Append(escaped); break; // \\ \' \$
            }
        }

        return text.ToString();
    }

    [GeneratedRegex("""Failed to evaluate expression "string\(.*?\)": (?<message>.*)$""")]
    private static partial Regex FailedEvaluation();
}
