using System.Text.Json;
using System.Text.Json.Serialization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;

namespace EntraSnow.Flows.FullSync;

/// <summary>
/// A user as the full sync's users delta page said it (attributes, manager, or <c>@removed</c>), carried on the user's
/// <c>user.sync</c> message (<see cref="ProvisioningMessageProperties.PageSnapshot"/>) so that its handler writes it
/// without a Graph GET of its own. Only from a full read (a walk from scratch, or Graph's resync after an expired delta
/// link): an incremental page carries only what changed, so its users are read from Graph as before.
/// </summary>
/// <remarks>
/// <para>
/// Why writing a snapshot is safe although the page may be hours old when the fan-out queues the slice: a change made
/// after the page was read reaches EntraSnow as a notification about the same user, and one user's messages are handled
/// one at a time (the session). Handled after this message, the notification reads the truth and writes last. Handled
/// before it (it can be: it may have been queued before the slice), it logged its decision after the page's read time,
/// and the handler then reads Graph instead of the snapshot (<see cref="DecidedSince"/>). A notification that failed
/// before logging is retried, and reads the truth again after this message. The same rule covers a redelivery of this
/// message once it has logged, and a decision from provisioning on demand.
/// </para>
/// <para>
/// Size: a user is a kilobyte or two of JSON; one with more than <see cref="MaxChars"/> characters (long extension
/// attributes) travels without its snapshot and is read from Graph, so a message stays far below what a Service Bus
/// message holds (256 KB on the Standard tier, with its batch) and a note below a checkpoint value (64 KiB in Azure
/// Table storage). User attributes are not secrets; no password or pass is ever part of a <see cref="DirectoryUser"/>.
/// </para>
/// </remarks>
public sealed record PageSnapshot(DateTimeOffset ReadAt, DirectoryUser User)
{
    /// <summary>The largest user (as JSON) a message carries.</summary>
    internal const int MaxChars = 16_000;

    /// <summary>
    /// How long before the page's read time a decision still counts as newer than the page: the clocks of two instances,
    /// and Graph's replication (a notification's read of the truth may be newer than a page read just after it).
    /// </summary>
    internal static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The snapshot as a message property, or null when the user is too large to carry.</summary>
    internal string? ToProperty()
    {
        var json = JsonSerializer.Serialize(this, Json);
        return json.Length <= MaxChars ? json : null;
    }

    /// <summary>Whether <paramref name="user"/> fits in a message as a snapshot.</summary>
    internal static bool Fits(DirectoryUser user) => JsonSerializer.Serialize(user, Json).Length + 64 <= MaxChars;

    /// <summary>The snapshot a <c>user.sync</c> message carries about its own subject, or null (none, or unreadable: then Graph is read).</summary>
    internal static PageSnapshot? From(ChangeMessage message)
    {
        if (message.Kind != MessageKinds.UserSync || message.Property(ProvisioningMessageProperties.PageSnapshot) is not { Length: > 0 } json)
        {
            return null;
        }

        try
        {
            var snapshot = JsonSerializer.Deserialize<PageSnapshot>(json, Json);
            return snapshot?.User is { Id: { Length: > 0 } id } && string.Equals(id, message.SubjectId, StringComparison.OrdinalIgnoreCase) ? snapshot : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Whether a decision about the user logged at <paramref name="decidedAt"/> may be newer than the page.</summary>
    internal bool DecidedSince(DateTimeOffset decidedAt) => decidedAt >= ReadAt - Tolerance;
}
