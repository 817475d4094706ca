using System.Text;

namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// A ServiceNow encoded query built from conditions, with values escaped so that a value containing
/// <c>^</c> or <c>=</c> cannot change the query. <c>EncodedQuery.Where("user_name", "a^b").And("active", "true")</c>.
/// </summary>
public sealed class EncodedQuery
{
    private readonly List<string> _parts = [];
    private readonly List<QueryCondition> _conditions = [];

    private EncodedQuery() { }

    public static EncodedQuery All { get; } = new();

    public static EncodedQuery Where(string field, string value) => new EncodedQuery().Add(string.Empty, field, "=", value);

    public static EncodedQuery Where(string field, string @operator, string value) => new EncodedQuery().Add(string.Empty, field, @operator, value);

    public EncodedQuery And(string field, string value) => Add("^", field, "=", value);

    public EncodedQuery And(string field, string @operator, string value) => Add("^", field, @operator, value);

    public EncodedQuery Or(string field, string value) => Add("^OR", field, "=", value);

    public EncodedQuery Or(string field, string @operator, string value) => Add("^OR", field, @operator, value);

    public EncodedQuery OrderBy(string field) => AddRaw("^ORDERBY" + CheckField(field));

    public EncodedQuery OrderByDescending(string field) => AddRaw("^ORDERBYDESC" + CheckField(field));

    /// <summary>The conditions as built (ordering left out), for code that evaluates a query itself (a dry run's pending writes).</summary>
    public IReadOnlyList<QueryCondition> Conditions => _conditions;

    private EncodedQuery Add(string joiner, string field, string @operator, string value)
    {
        var copy = Copy();
        var prefix = copy._parts.Count == 0 ? string.Empty : joiner;
        copy._parts.Add(prefix + CheckField(field) + @operator + Escape(value));
        copy._conditions.Add(new QueryCondition(copy._conditions.Count > 0 && joiner == "^OR", field, @operator, value));
        return copy;
    }

    private EncodedQuery AddRaw(string part)
    {
        var copy = Copy();
        copy._parts.Add(copy._parts.Count == 0 ? part.TrimStart('^') : part);
        return copy;
    }

    private EncodedQuery Copy()
    {
        var copy = new EncodedQuery();
        copy._parts.AddRange(_parts);
        copy._conditions.AddRange(_conditions);
        return copy;
    }

    /// <summary>
    /// ServiceNow reads <c>^</c> as the condition separator; a literal caret is written <c>^^</c>.
    /// Line breaks are dropped (they cannot occur in a matching value and would end the query).
    /// </summary>
    public static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length + 4);
        foreach (var c in value)
        {
            switch (c)
            {
                case '^':
                    builder.Append("^^");
                    break;
                case '\r' or '\n':
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    private static string CheckField(string field)
    {
        foreach (var c in field)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.'))
            {
                throw new ArgumentException($"'{field}' is not a ServiceNow field name.", nameof(field));
            }
        }

        return field;
    }

    public override string ToString() => string.Concat(_parts);
}

/// <param name="OrWithPrevious">Joined with <c>^OR</c> to the condition before it (which binds tighter than <c>^</c>).</param>
public sealed record QueryCondition(bool OrWithPrevious, string Field, string Operator, string Value);
