using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.FullSync.DryRun;

/// <summary>
/// Evaluates an <see cref="EncodedQuery"/> against a record in memory, for the records a dry run wrote only to itself:
/// the operators the flows use (=, !=, IN, NOT IN, ISEMPTY, ISNOTEMPTY, STARTSWITH, LIKE), compared without regard to case
/// as ServiceNow does. A query using anything else cannot be evaluated (<see cref="CanEvaluate"/> is false).
/// </summary>
internal static class PendingQuery
{
    private static readonly HashSet<string> Known = ["=", "!=", "IN", "NOT IN", "ISEMPTY", "ISNOTEMPTY", "STARTSWITH", "LIKE"];

    public static bool CanEvaluate(EncodedQuery query) => query.Conditions.All(c => Known.Contains(c.Operator));

    /// <summary><c>a^b^ORc</c> is a AND (b OR c): an <c>^OR</c> condition joins the group of the one before it.</summary>
    public static bool Matches(EncodedQuery query, IReadOnlyDictionary<string, string?> record)
    {
        var result = true;
        bool? group = null;
        foreach (var condition in query.Conditions)
        {
            var match = Matches(condition, record.TryGetValue(condition.Field, out var v) ? v ?? string.Empty : string.Empty);
            if (condition.OrWithPrevious && group is not null)
            {
                group = group.Value || match;
                continue;
            }

            if (group is not null)
            {
                result &= group.Value;
            }

            group = match;
        }

        return group is null ? result : result && group.Value;
    }

    private static bool Matches(QueryCondition condition, string actual) => condition.Operator switch
    {
        "=" => string.Equals(actual, condition.Value, StringComparison.OrdinalIgnoreCase),
        "!=" => !string.Equals(actual, condition.Value, StringComparison.OrdinalIgnoreCase),
        "IN" => condition.Value.Split(',').Contains(actual, StringComparer.OrdinalIgnoreCase),
        "NOT IN" => !condition.Value.Split(',').Contains(actual, StringComparer.OrdinalIgnoreCase),
        "ISEMPTY" => actual.Length == 0,
        "ISNOTEMPTY" => actual.Length > 0,
        "STARTSWITH" => actual.StartsWith(condition.Value, StringComparison.OrdinalIgnoreCase),
        "LIKE" => actual.Contains(condition.Value, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
