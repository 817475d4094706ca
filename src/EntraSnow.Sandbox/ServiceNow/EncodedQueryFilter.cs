using System.Globalization;
using System.Text;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// A parsed ServiceNow encoded query: <c>^</c> (and), <c>^OR</c> (binds tighter than and), <c>^NQ</c> (a new query,
/// or-ed with the others), <c>ORDERBY</c>/<c>ORDERBYDESC</c>; <c>^^</c> is a literal caret. Conditions the emulator
/// cannot read are ignored, as ServiceNow ignores invalid parts of a query.
/// </summary>
internal sealed class EncodedQueryFilter
{
    private static readonly string[] Operators =
        ["ISNOTEMPTY", "ISEMPTY", "NOT LIKE", "NOTLIKE", "LIKE", "STARTSWITH", "ENDSWITH", "NOT IN", "NOTIN", "IN", "!=", ">=", "<=", "=", ">", "<"];

    // Queries (^NQ) of and-groups of or-alternatives.
    private readonly List<List<List<Condition>>> _queries = [[]];

    public List<(string Field, bool Descending)> Order { get; } = [];

    /// <summary>Whether a condition named a field the table does not have (it was left out).</summary>
    public bool NamedUnknownField { get; private set; }

    /// <param name="knownField">When given, conditions on other fields are left out, as ServiceNow ignores them.</param>
    public static EncodedQueryFilter Parse(string? query, Func<string, bool>? knownField = null)
    {
        var filter = new EncodedQueryFilter { _knownField = knownField };
        if (string.IsNullOrEmpty(query))
        {
            return filter;
        }

        foreach (var segment in Split(query))
        {
            if (segment.StartsWith("ORDERBYDESC", StringComparison.Ordinal))
            {
                filter.Order.Add((segment["ORDERBYDESC".Length..], true));
            }
            else if (segment.StartsWith("ORDERBY", StringComparison.Ordinal))
            {
                filter.Order.Add((segment["ORDERBY".Length..], false));
            }
            else if (segment.StartsWith("NQ", StringComparison.Ordinal))
            {
                filter._queries.Add([]);
                filter.AddCondition(segment[2..], or: false);
            }
            else if (segment.StartsWith("OR", StringComparison.Ordinal))
            {
                filter.AddCondition(segment[2..], or: true);
            }
            else if (segment != "EQ")
            {
                filter.AddCondition(segment, or: false);
            }
        }

        return filter;
    }

    public bool Matches(Func<string, string> fieldValue)
    {
        foreach (var query in _queries)
        {
            if (query.All(group => group.Any(condition => condition.Matches(fieldValue))))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Conditions one of which every match must meet, each a <c>field=value</c> or <c>fieldINa,b</c> (one query, an
    /// and-group of such alternatives: <c>user_nameINa,b^ORemailINc,d</c>), which indexes can answer; the whole filter is
    /// still applied to what the indexes return.
    /// </summary>
    public bool TryGetRequiredValues(out IReadOnlyList<(string Field, IReadOnlyCollection<string> Values)> alternatives)
    {
        static bool Indexable(Condition c) => c.Operator is "=" or "IN" && !c.Field.Contains('.', StringComparison.Ordinal);
        if (_queries.Count == 1 && _queries[0].FirstOrDefault(g => g.Count > 0 && g.All(Indexable)) is { } group)
        {
            alternatives = [.. group.Select(c => (c.Field, c.Operator == "=" ? (IReadOnlyCollection<string>)[c.Value] : c.Listed))];
            return true;
        }

        alternatives = [];
        return false;
    }

    private Func<string, bool>? _knownField;

    private void AddCondition(string text, bool or)
    {
        if (Condition.TryParse(text) is not { } condition)
        {
            return; // Unreadable: ignored, as ServiceNow does.
        }

        if (_knownField is not null && !_knownField(condition.Field))
        {
            NamedUnknownField = true;
            return;
        }

        var groups = _queries[^1];
        if (or && groups.Count > 0)
        {
            groups[^1].Add(condition);
        }
        else
        {
            groups.Add([condition]);
        }
    }

    /// <summary>Splits at single carets; a doubled caret is a literal one inside a value.</summary>
    private static List<string> Split(string query)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < query.Length; i++)
        {
            if (query[i] != '^')
            {
                current.Append(query[i]);
            }
            else if (i + 1 < query.Length && query[i + 1] == '^')
            {
                current.Append('^');
                i++;
            }
            else
            {
                parts.Add(current.ToString());
                current.Clear();
            }
        }

        parts.Add(current.ToString());
        return parts.Where(p => p.Length > 0).ToList();
    }

    private sealed record Condition(string Field, string Operator, string Value)
    {
        /// <summary>The values of an IN or NOT IN list, split once rather than for every record compared.</summary>
        public HashSet<string> Listed { get; } = Operator is "IN" or "NOTIN" ? new(Value.Split(','), StringComparer.OrdinalIgnoreCase) : [];

        public static Condition? TryParse(string text)
        {
            // Field names are lower case (letters, digits, _, and . for dot-walking), so the operator starts at the
            // first character that cannot belong to one.
            var end = 0;
            while (end < text.Length && (char.IsAsciiLetterLower(text[end]) || char.IsAsciiDigit(text[end]) || text[end] is '_' or '.'))
            {
                end++;
            }

            if (end == 0)
            {
                return null;
            }

            var rest = text[end..];
            foreach (var op in Operators)
            {
                if (rest.StartsWith(op, StringComparison.Ordinal))
                {
                    return new Condition(text[..end], op.Replace(" ", string.Empty, StringComparison.Ordinal), rest[op.Length..]);
                }
            }

            return null;
        }

        public bool Matches(Func<string, string> fieldValue)
        {
            var actual = fieldValue(Field);
            return Operator switch
            {
                "=" => actual.Equals(Value, StringComparison.OrdinalIgnoreCase),
                "!=" => !actual.Equals(Value, StringComparison.OrdinalIgnoreCase),
                "LIKE" => actual.Contains(Value, StringComparison.OrdinalIgnoreCase),
                "NOTLIKE" => !actual.Contains(Value, StringComparison.OrdinalIgnoreCase),
                "STARTSWITH" => actual.StartsWith(Value, StringComparison.OrdinalIgnoreCase),
                "ENDSWITH" => actual.EndsWith(Value, StringComparison.OrdinalIgnoreCase),
                "IN" => Listed.Contains(actual),
                "NOTIN" => !Listed.Contains(actual),
                "ISEMPTY" => actual.Length == 0,
                "ISNOTEMPTY" => actual.Length > 0,
                ">" => Compare(actual, Value) > 0,
                ">=" => Compare(actual, Value) >= 0,
                "<" => Compare(actual, Value) < 0,
                "<=" => Compare(actual, Value) <= 0,
                _ => true,
            };
        }
    }

    /// <summary>Numbers compare as numbers, everything else (dates in ServiceNow's sortable format included) as text.</summary>
    public static int Compare(string left, string right) =>
        decimal.TryParse(left, NumberStyles.Number, CultureInfo.InvariantCulture, out var l) && decimal.TryParse(right, NumberStyles.Number, CultureInfo.InvariantCulture, out var r)
            ? l.CompareTo(r)
            : string.Compare(left, right, StringComparison.OrdinalIgnoreCase);
}
