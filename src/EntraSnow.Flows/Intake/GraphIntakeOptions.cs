using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Flows.Intake;

/// <summary>The intake's part of the <c>Graph</c> settings: the secrets Graph echoes back in every notification.</summary>
public sealed class GraphIntakeOptions
{
    public const string Section = "Graph";

    /// <summary>The clientState given to Graph when subscribing. Notifications carrying anything else are dropped.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Graph:ClientState is required: it is the secret Graph echoes in every notification.")]
    [MinLength(16, ErrorMessage = "Graph:ClientState must be at least 16 characters long.")]
    [MaxLength(128, ErrorMessage = "Graph:ClientState may be at most 128 characters long (Graph's limit).")]
    public string ClientState { get; set; } = string.Empty;

    /// <summary>The previous secret, still accepted while subscriptions are renewed with the new one. Remove it once rotation is done.</summary>
    [MaxLength(128)]
    public string? PreviousClientState { get; set; }
}
