using EntraSnow.Flows.Intake;

namespace EntraSnow.Flows.ServiceNowWebhooks;

/// <summary>
/// The body of a change-decision webhook: ServiceNow approved or rejected a change EntraSnow opened in Authorize (a
/// sensitive group under <c>remove-until-approved</c>). Only pointers and the decision it claims: the consumer reads
/// the change back and acts on its approval as ServiceNow has it.
/// </summary>
public sealed record ChangeDecision(string SysId, string Number, string Approval)
{
    public const string Table = "change_request";
    public const string Approved = "approved";
    public const string Rejected = "rejected";

    /// <summary>Parses and checks a body; every problem becomes a <see cref="NotificationFormatException"/> (answered 400).</summary>
    public static ChangeDecision Parse(ReadOnlySpan<byte> utf8Json) => CatalogRequest.ReadObject(utf8Json, root =>
    {
        if (CatalogRequest.Text(root, "table", required: true) != Table)
        {
            throw new NotificationFormatException($"'table' must be {Table}.");
        }

        var approval = CatalogRequest.Text(root, "approval", required: true)!.ToLowerInvariant();
        if (approval is not (Approved or Rejected))
        {
            throw new NotificationFormatException($"'approval' must be '{Approved}' or '{Rejected}'.");
        }

        return new ChangeDecision(CatalogRequest.ReadSysId(root, "sys_id"), CatalogRequest.ReadNumber(root), approval);
    });
}
