using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Provisioning;

/// <summary>
/// Adoption decisions for many users at once, for the full sync: one sys_user query per fifty users instead of one per
/// user, so adopting an instance's existing records costs little more than the one write per user. Seeing every user
/// of the run also catches what one user alone cannot: a record that two Entra users would each adopt (one by UPN,
/// another by e-mail) is adopted by neither.
/// </summary>
internal sealed class BatchAdoption(IServiceNowTable serviceNow, UserAdoption adoption)
{
    // Fifty UPNs and fifty addresses keep the query URL well under the length instances accept.
    private const int Chunk = 50;

    private const int QueriesInFlight = 8;

    /// <param name="users">Users no sys_user carries the object id of: object id to match values.</param>
    /// <returns>A decision for each user that could be decided here; the others are looked up by their handler.</returns>
    public async Task<Dictionary<string, AdoptionDecision>> DecideAsync(
        IReadOnlyDictionary<string, IReadOnlyList<(string Field, string Value)>> users, CancellationToken cancellationToken)
    {
        var decisions = new Dictionary<string, AdoptionDecision>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, values) in users.Where(u => u.Value.Count == 0))
        {
            decisions[id] = AdoptionDecision.None;
        }

        // A few chunks in flight: against an instance answering in tens of milliseconds the queries' round trips, not
        // the instance, set the time. The connector's own budget still caps what is in flight for every flow together.
        var chunks = users.Where(u => u.Value.Count > 0 && AdoptionRules.CanBatch(u.Value)).Chunk(Chunk).ToList();
        var decided = new AdoptionDecision[chunks.Count][];
        await Parallel.ForEachAsync(Enumerable.Range(0, chunks.Count), new ParallelOptions { MaxDegreeOfParallelism = QueriesInFlight, CancellationToken = cancellationToken },
            async (i, token) => decided[i] = await DecideChunkAsync(chunks[i], token));
        for (var i = 0; i < chunks.Count; i++)
        {
            foreach (var ((id, _), decision) in chunks[i].Zip(decided[i]))
            {
                // A name reused from a deleted object needs Entra asked about that object: the user's handler does it.
                if (decision.Verdict != AdoptionVerdict.Reuse)
                {
                    decisions[id] = decision;
                }
            }
        }

        foreach (var claimants in decisions.Where(d => d.Value.Verdict == AdoptionVerdict.Adopt)
                     .GroupBy(d => d.Value.SysId, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList())
        {
            var ids = string.Join(", ", claimants.Select(c => c.Key));
            foreach (var (id, decision) in claimants)
            {
                decisions[id] = decision with
                {
                    Verdict = AdoptionVerdict.Conflict,
                    Reason = $"conflict: sys_user {decision.SysId} matches {claimants.Count()} Entra users ({ids}); nothing written",
                };
            }
        }

        return decisions;
    }

    /// <summary>One query for the chunk's candidates; a decision per user, in the chunk's order.</summary>
    private async Task<AdoptionDecision[]> DecideChunkAsync(KeyValuePair<string, IReadOnlyList<(string Field, string Value)>>[] chunk, CancellationToken cancellationToken)
    {
        var query = AdoptionRules.BatchQuery(chunk.Select(u => u.Value))!;
        var candidates = new List<ServiceNowRecord>();
        await foreach (var record in serviceNow.QueryAsync(ProvisionUserHandler.UserTable, query, adoption.CandidateFields, cancellationToken))
        {
            candidates.Add(record);
        }

        return [.. chunk.Select(u => adoption.Decide(u.Key, u.Value, candidates))];
    }
}
