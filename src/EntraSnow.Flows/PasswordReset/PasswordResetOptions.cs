using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Flows.PasswordReset;

public enum ResetMethod
{
    /// <summary>A Temporary Access Pass (app-only, UserAuthenticationMethod.ReadWrite.All).</summary>
    TemporaryAccessPass,

    /// <summary>A new password the user must change at next sign-in (PATCH passwordProfile; the app needs the User Administrator role).</summary>
    Password,
}

/// <summary>Settings under <c>PasswordReset</c>.</summary>
public sealed class PasswordResetOptions : IValidatableObject
{
    public const string Section = "PasswordReset";

    public ResetMethod Method { get; set; } = ResetMethod.TemporaryAccessPass;

    /// <summary>Graph's range for a Temporary Access Pass: 10 minutes to 30 days.</summary>
    [Range(10, 43_200, ErrorMessage = "PasswordReset:TemporaryAccessPassLifetimeMinutes must be between 10 and 43200 (Graph's range).")]
    public int TemporaryAccessPassLifetimeMinutes { get; set; } = 60;

    public bool TemporaryAccessPassUsableOnce { get; set; } = true;

    /// <summary>Also revoke the user's sign-in sessions (refresh tokens) after the reset.</summary>
    public bool RevokeSessions { get; set; }

    /// <summary>The mailbox the secret is sent from (Graph sendMail, Mail.Send). Unset, no reset is done: there is no channel.</summary>
    [EmailAddress(ErrorMessage = "PasswordReset:SendFrom must be a mailbox address.")]
    public string? SendFrom { get; set; }

    /// <summary>Send the secret here instead of to the user's manager (e.g. a service desk mailbox).</summary>
    [EmailAddress(ErrorMessage = "PasswordReset:SendTo must be a mail address.")]
    public string? SendTo { get; set; }

    /// <summary>Entra group object ids whose members are never reset here (besides anyone holding a directory role).</summary>
    public List<string> ProtectedGroupIds { get; set; } = [];

    /// <summary>ServiceNow role names whose holders may ask for someone else's reset (besides the user and their manager).</summary>
    public List<string> EntitledRoles { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ProtectedGroupIds.Any(id => !Guid.TryParse(id, out _)))
        {
            yield return new ValidationResult("PasswordReset:ProtectedGroupIds must be Entra group object ids (GUIDs).", [nameof(ProtectedGroupIds)]);
        }
    }
}
