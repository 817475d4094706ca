using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// The part of OData <c>$filter</c> EntraSnow uses: comparisons (eq, ne, gt, ge, lt, le) of a property path with a
/// literal, <c>startswith(path,'x')</c>, a comparison inside a collection (<c>targetResources/any(t:t/id eq 'x')</c>),
/// joined by <c>and</c> / <c>or</c> (and binds tighter), with parentheses.
/// </summary>
internal sealed class ODataFilter
{
    private readonly Func<JsonObject, bool> _predicate;

    private ODataFilter(Func<JsonObject, bool> predicate, IReadOnlyList<string> paths, IReadOnlyList<IReadOnlyList<string>> inLists)
    {
        _predicate = predicate;
        Paths = paths;
        InLists = inLists;
    }

    /// <summary>The values of every <c>in</c> list, as written (Graph allows 15 a list).</summary>
    public IReadOnlyList<IReadOnlyList<string>> InLists { get; }

    /// <summary>The ids of a filter that is exactly <c>id in (...)</c> which a store answers by key.</summary>
    public IReadOnlyList<string>? OnlyIds => Paths is [var path] && string.Equals(path, "id", StringComparison.OrdinalIgnoreCase) && InLists is [var ids] ? ids : null;

    /// <summary>Every property path the filter compares (e.g. <c>signInActivity/lastSuccessfulSignInDateTime</c>).</summary>
    public IReadOnlyList<string> Paths { get; }

    public bool Matches(JsonObject item) => _predicate(item);

    /// <exception cref="FormatException">The expression is outside what the emulator (and EntraSnow) uses.</exception>
    public static ODataFilter Parse(string expression)
    {
        var parser = new Parser(Tokenize(expression));
        var predicate = parser.ParseOr();
        if (!parser.AtEnd)
        {
            throw new FormatException($"Unexpected '{parser.Peek}' in $filter.");
        }

        return new ODataFilter(predicate, parser.Paths, parser.InLists);
    }

    private static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '(' or ')' or ',')
            {
                tokens.Add(c.ToString());
                i++;
            }
            else if (c == '\'')
            {
                var start = i++;
                while (i < text.Length)
                {
                    if (text[i] == '\'' && i + 1 < text.Length && text[i + 1] == '\'')
                    {
                        i += 2;
                    }
                    else if (text[i] == '\'')
                    {
                        break;
                    }
                    else
                    {
                        i++;
                    }
                }

                if (i >= text.Length)
                {
                    throw new FormatException("Unterminated string literal in $filter.");
                }

                tokens.Add(text[start..(i + 1)]);
                i++;
            }
            else
            {
                var start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not '(' and not ')' and not ',')
                {
                    i++;
                }

                tokens.Add(text[start..i]);
            }
        }

        return tokens;
    }

    private sealed class Parser(List<string> tokens)
    {
        private int _position;

        public List<string> Paths { get; } = [];

        public List<IReadOnlyList<string>> InLists { get; } = [];

        public bool AtEnd => _position >= tokens.Count;

        public string Peek => AtEnd ? "" : tokens[_position];

        private string Next() => AtEnd ? throw new FormatException("The $filter expression ends too early.") : tokens[_position++];

        private bool Accept(string keyword)
        {
            if (!AtEnd && string.Equals(tokens[_position], keyword, StringComparison.OrdinalIgnoreCase))
            {
                _position++;
                return true;
            }

            return false;
        }

        public Func<JsonObject, bool> ParseOr()
        {
            var left = ParseAnd();
            while (Accept("or"))
            {
                var l = left;
                var r = ParseAnd();
                left = item => l(item) || r(item);
            }

            return left;
        }

        private Func<JsonObject, bool> ParseAnd()
        {
            var left = ParseTerm();
            while (Accept("and"))
            {
                var l = left;
                var r = ParseTerm();
                left = item => l(item) && r(item);
            }

            return left;
        }

        private Func<JsonObject, bool> ParseTerm()
        {
            if (Accept("("))
            {
                var inner = ParseOr();
                Expect(")");
                return inner;
            }

            if (Accept("not"))
            {
                var inner = ParseTerm();
                return item => !inner(item);
            }

            var first = Next();
            if (string.Equals(first, "startswith", StringComparison.OrdinalIgnoreCase))
            {
                Expect("(");
                var path = Next();
                Paths.Add(path);
                Expect(",");
                var prefix = Literal(Next()) as string ?? throw new FormatException("startswith needs a string.");
                Expect(")");
                return item => Resolve(item, path) is JsonValue v && v.TryGetValue<string>(out var s)
                    && s.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
            }

            if (first.EndsWith("/any", StringComparison.OrdinalIgnoreCase))
            {
                return ParseAny(first[..^"/any".Length]);
            }

            Paths.Add(first);
            if (Accept("in"))
            {
                return ParseIn(first);
            }

            return Comparison(first, Next(), Literal(Next()));
        }

        /// <summary><c>path in ('a', 'b')</c>: equal to one of the values.</summary>
        private Func<JsonObject, bool> ParseIn(string path)
        {
            Expect("(");
            var values = new List<string>();
            do
            {
                values.Add(Literal(Next()) as string ?? throw new FormatException($"'in' on {path} needs string values."));
            }
            while (Accept(","));
            Expect(")");
            InLists.Add(values);
            var comparisons = values.Select(v => Comparison(path, "eq", v)).ToList();
            return item => comparisons.Any(c => c(item));
        }

        /// <summary><c>collection/any(t:t/path op literal)</c> (also with a space after the colon): some element matches.</summary>
        private Func<JsonObject, bool> ParseAny(string collection)
        {
            Expect("(");
            var lambda = Next();
            var colon = lambda.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new FormatException($"Expected a lambda like 't:t/id' in {collection}/any(…), found '{lambda}'.");
            }

            var variable = lambda[..colon];
            var body = colon == lambda.Length - 1 ? Next() : lambda[(colon + 1)..];
            if (!body.StartsWith(variable + "/", StringComparison.Ordinal))
            {
                throw new FormatException($"The lambda in {collection}/any(…) must compare a property of '{variable}', found '{body}'.");
            }

            var path = body[(variable.Length + 1)..];
            var element = Comparison(path, Next(), Literal(Next()));
            Expect(")");
            Paths.Add($"{collection}/{path}");
            return item => Resolve(item, collection) is JsonArray elements && elements.OfType<JsonObject>().Any(element);
        }

        private void Expect(string token)
        {
            if (!Accept(token))
            {
                throw new FormatException($"Expected '{token}' in $filter, found '{Peek}'.");
            }
        }
    }

    private static Func<JsonObject, bool> Comparison(string path, string op, object? literal) => op.ToLowerInvariant() switch
    {
        "eq" => item => Compare(Resolve(item, path), literal) == 0,
        "ne" => item => Compare(Resolve(item, path), literal) != 0,
        "gt" => item => Compare(Resolve(item, path), literal) is > 0 and not NotComparable,
        "ge" => item => Compare(Resolve(item, path), literal) is >= 0 and not NotComparable,
        "lt" => item => Compare(Resolve(item, path), literal) is < 0 and not NullOrder,
        "le" => item => Compare(Resolve(item, path), literal) is <= 0 and not NullOrder,
        _ => throw new FormatException($"Operator '{op}' is not supported in $filter."),
    };

    private const int NotComparable = int.MaxValue;
    private const int NullOrder = int.MinValue;

    private static object? Literal(string token)
    {
        if (token.StartsWith('\''))
        {
            return token[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        if (string.Equals(token, "null", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (bool.TryParse(token, out var b))
        {
            return b;
        }

        if (token.Contains('T', StringComparison.Ordinal)
            && DateTimeOffset.TryParse(token, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            return date;
        }

        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        throw new FormatException($"'{token}' is not a literal the emulator understands.");
    }

    private static JsonNode? Resolve(JsonObject item, string path)
    {
        JsonNode? node = item;
        foreach (var part in path.Split('/'))
        {
            node = node is JsonObject obj ? obj[part] : null;
        }

        return node;
    }

    /// <summary>Compares a property with a literal; a missing value equals only null and sorts before everything (NullOrder).</summary>
    private static int Compare(JsonNode? value, object? literal)
    {
        if (value is null || (value is JsonValue nv && nv.GetValueKind() == JsonValueKind.Null))
        {
            return literal is null ? 0 : NullOrder;
        }

        if (literal is null)
        {
            return NotComparable;
        }

        if (value is not JsonValue v)
        {
            return NotComparable;
        }

        switch (literal)
        {
            case bool b when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False:
                return v.GetValue<bool>() == b ? 0 : NotComparable;
            case double d when v.GetValueKind() == JsonValueKind.Number:
                return v.GetValue<double>().CompareTo(d);
            case DateTimeOffset date when v.TryGetValue<string>(out var s)
                && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var actual):
                return actual.CompareTo(date);
            case string text when v.TryGetValue<string>(out var s):
                return string.Compare(s, text, StringComparison.OrdinalIgnoreCase);
            default:
                return NotComparable;
        }
    }
}
