using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

/// <summary>What provisioning one user on demand did.</summary>
/// <param name="User">The user, or null when Entra ID has no such user (nothing was done).</param>
/// <param name="Decision">The provisioning log entry the run wrote, when it wrote one.</param>
/// <param name="Error">Why the run failed, when it did.</param>
public sealed record OnDemandResult(DirectoryUser? User, ProvisioningLogEntry? Decision, string? Error)
{
    /// <summary>Whether the user is where the rules want them: written, or rightly left alone.</summary>
    public bool Succeeded => User is not null && Error is null &&
        Decision is { Action: not (ProvisioningAction.Failed or ProvisioningAction.Conflict) };
}

/// <summary>
/// One user through the user-changes handler now, as the Entra admin center's "Provision on demand" does: the same code
/// a queued change runs, with its steps (user, scope, mapping, references, match, write) reported as they happen
/// through <see cref="ProvisioningTrace"/>. Takes a UPN or an object id.
/// </summary>
public sealed class ProvisionOnDemand(IDirectory directory, IEnumerable<IMessageHandler> handlers, IProvisioningLog log,
    IOptions<ProvisioningOptions> options, TimeProvider clock)
{
    private readonly IMessageHandler _handler = handlers.Single(h => h.Queue == QueueNames.UserChanges);

    public async Task<OnDemandResult> RunAsync(string userPrincipalNameOrId, Action<ProvisioningStep> onStep, CancellationToken cancellationToken = default)
    {
        // Graph takes either in /users/{id}; the handler then works on the object id.
        var user = await directory.GetUserAsync(userPrincipalNameOrId.Trim(), cancellationToken);
        if (user is null || user.Removed is not null)
        {
            return new OnDemandResult(null, null, $"Entra ID has no user '{userPrincipalNameOrId}' (looked up as a user principal name or object id).");
        }

        var now = clock.GetUtcNow();
        var correlationId = $"on-demand-{now:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..8]}";
        var message = new ChangeMessage
        {
            MessageId = $"user.on-demand:{correlationId}:{user.Id}",
            SessionKey = user.Id,
            Kind = MessageKinds.UserSync,
            TenantId = options.Value.TenantId,
            SubjectId = user.Id,
            ChangedAt = now,
            CorrelationId = correlationId,
        };

        string? error = null;
        using (ProvisioningTrace.Listen(onStep))
        {
            try
            {
                await _handler.HandleAsync(message, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                error = ex.Message;
            }
        }

        var entries = await log.GetByCorrelationAsync(correlationId, cancellationToken);
        var decision = entries.Count == 0 ? null : entries[^1];
        return new OnDemandResult(user, decision, error ?? (decision is { Action: ProvisioningAction.Failed } ? decision.Reason : null));
    }
}
