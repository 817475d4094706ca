using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Messaging;

/// <summary>
/// Runs a handler for one delivery and decides the message's fate. Transient failures are retried with backoff
/// inside the delivery, then rescheduled with a growing delay (the isolated worker would otherwise abandon at once
/// and burn the delivery count in seconds); permanent failures and exhausted retries are dead-lettered with a reason.
/// With the defaults, a message survives a ServiceNow outage of more than four hours.
/// Any other exception (a SqliteException, an Azure.Identity AuthenticationFailedException, a bug) is treated as
/// transient too: retried the same way, then dead-lettered naming the exception, so no message is held for ever and
/// the host never abandons at once (which in Azure would burn the delivery count in seconds).
/// </summary>
/// <param name="sharedPauses">For a host of several instances (the Functions app): where paused connectors are shared.</param>
public sealed class MessageProcessor(
    IOptions<MessagingOptions> options,
    TimeProvider clock,
    ILogger<MessageProcessor> logger,
    ISharedConnectorPauses? sharedPauses = null)
{
    /// <summary>Connectors paused because their credentials failed (health shows them).</summary>
    public ConnectorPauses Pauses { get; } = new();

    private SharedPauseSync? _sharedSync;

    private SharedPauseSync? Shared => sharedPauses is null ? null : LazyInitializer.EnsureInitialized(ref _sharedSync, () => new SharedPauseSync(sharedPauses, clock, logger));

    /// <param name="sentFrom">The producer span the message carried, when its queue carries one: the delivery continues that trace.</param>
    public async Task<MessageDisposition> ProcessAsync(IMessageHandler handler, ChangeMessage message, CancellationToken cancellationToken, ActivityContext sentFrom = default)
    {
        using var activity = MessagingTelemetry.StartProcess(handler.Queue, message, sentFrom);
        var disposition = await DecideAsync(handler, message, cancellationToken);
        MessagingTelemetry.Outcome(handler.Queue, disposition, activity);
        if (disposition is MessageDisposition.Complete)
        {
            MessagingTelemetry.Completed(handler.Queue, message, clock.GetUtcNow());
        }

        return disposition;
    }

    private async Task<MessageDisposition> DecideAsync(IMessageHandler handler, ChangeMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        // A message template scope: structured providers get the values as properties, the console gets a readable line.
        using var scope = logger.BeginScope("{Queue} {Kind} {SubjectId} correlation {CorrelationId} message {MessageId}",
            handler.Queue, message.Kind, message.SubjectId, message.CorrelationId, message.MessageId);

        if (await HoldAsync(handler.Queue, settings, cancellationToken) is { } held)
        {
            // Not a call to the connector: the pause's one probe per interval tells whether the credential works again.
            logger.LogDebug("{Connector} is paused: {Kind} for {SubjectId} waits for its next probe at {NextProbe}", held.Pause.Connector, message.Kind, message.SubjectId, held.Until);
            return new MessageDisposition.Reschedule(held.Until, message.Attempt, $"{held.Pause.Connector} is paused: {held.Pause.Reason}", held.Pause.Connector);
        }

        Failure? last = null;
        for (var inline = 0; inline <= settings.InlineRetries; inline++)
        {
            try
            {
                await handler.HandleAsync(message, cancellationToken);
                var resumed = Pauses.ResumeFrom(handler.Queue);
                foreach (var lifted in resumed)
                {
                    logger.LogWarning("{Connector} works again: resuming its work (paused since {Since}: {Reason})", lifted.Connector, lifted.Since, lifted.Reason);
                }

                if (resumed.Count > 0 && Shared is { } shared)
                {
                    await shared.LiftAsync(resumed, CancellationToken.None);
                }

                return new MessageDisposition.Complete { Resumed = [.. resumed.Select(p => p.Connector)] };
            }
            catch (PermanentFailureException ex)
            {
                logger.LogWarning("Dead-lettering {Kind} for {SubjectId}: {Reason}", message.Kind, message.SubjectId, ex.Message);
                return new MessageDisposition.DeadLetter("PermanentFailure", ex.Message);
            }
            catch (FormatException ex)
            {
                logger.LogWarning("Dead-lettering malformed {Kind}: {Reason}", message.Kind, ex.Message);
                return new MessageDisposition.DeadLetter("MalformedMessage", ex.Message);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && CredentialFailures.AsConnectorUnavailable(ex) is { } paused)
            {
                var waiting = Pause(handler.Queue, message, paused, settings);
                if (Shared is { } shared)
                {
                    await shared.RecordAsync(Pauses, paused.Connector, cancellationToken);
                }

                return waiting;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                last = Failure.Of(ex);
                if (ex is not TransientFailureException)
                {
                    // Unexpected: the stack trace goes to the log once per attempt, the message keeps only the reason.
                    logger.LogWarning(ex, "Unexpected {ExceptionType} while handling {Kind} for {SubjectId}; treated as transient",
                        ex.GetType().Name, message.Kind, message.SubjectId);
                }

                // A server that named its wait gets it at the next reschedule, not by blocking this delivery.
                if (last.RetryAfter is { } after && after > settings.InlineRetryDelay * 4)
                {
                    break;
                }

                if (inline < settings.InlineRetries)
                {
                    var delay = settings.InlineRetryDelay * Math.Pow(2, inline);
                    logger.LogInformation("Transient failure ({Reason}); retrying in {Delay}", last.Reason, delay);
                    await Task.Delay(delay, clock, cancellationToken);
                }
            }
        }

        var attempt = message.Attempt + 1;
        var reason = last?.Reason ?? "transient failure";
        if (attempt >= settings.MaxAttempts)
        {
            logger.LogError("Dead-lettering {Kind} for {SubjectId} after {Attempts} attempts: {Reason}",
                message.Kind, message.SubjectId, attempt, reason);
            return new MessageDisposition.DeadLetter("MaxAttemptsExceeded", $"Still failing after {attempt} attempts: {reason}");
        }

        var wait = RescheduleDelay(settings, message.Attempt);
        if (last?.RetryAfter is { } retryAfter && retryAfter > wait)
        {
            wait = retryAfter;
        }

        logger.LogWarning("Rescheduling {Kind} for {SubjectId} in {Delay} (attempt {Attempt} of {Max}): {Reason}",
            message.Kind, message.SubjectId, wait, attempt, settings.MaxAttempts, reason);
        return new MessageDisposition.Reschedule(clock.GetUtcNow() + wait, attempt, reason);
    }

    /// <summary>
    /// Whether the message must wait for a paused connector's next probe (null: no pause holds its queue, or it is the
    /// probe). With a shared record, pauses met by other instances hold it too, and the probe is one for all instances.
    /// </summary>
    private async Task<(ConnectorPause Pause, DateTimeOffset Until)?> HoldAsync(string queue, MessagingOptions settings, CancellationToken cancellationToken)
    {
        if (Shared is { } shared)
        {
            await shared.ReadIfDueAsync(Pauses, cancellationToken);
        }

        var now = clock.GetUtcNow();
        var held = Pauses.Hold(queue, now, settings.PausedRetryDelay);
        if (held is null && Shared is { } probing && await probing.ProbeTakenElsewhereAsync(Pauses, queue, now, settings.PausedRetryDelay, cancellationToken))
        {
            return Pauses.Hold(queue, now, settings.PausedRetryDelay);
        }

        return held;
    }

    /// <summary>
    /// A credential failure is the connector's, not the message's: the message waits without counting an attempt (so a
    /// rotation mid-sync dead-letters nothing), and the pause is logged as an error once, when it starts.
    /// </summary>
    private MessageDisposition.Reschedule Pause(string queue, ChangeMessage message, ConnectorUnavailableException paused, MessagingOptions settings)
    {
        var now = clock.GetUtcNow();
        if (Pauses.Pause(paused.Connector, paused.Reason, queue, now, now + settings.PausedRetryDelay))
        {
            MessagingTelemetry.Paused(paused.Connector, queue);
            logger.LogError("{Connector} paused: {Reason}. Its work on {Queue} waits, one message tries it every {Interval}, and resumes by itself once the credential works; `doctor` explains",
                paused.Connector, paused.Reason, queue, settings.PausedRetryDelay);
        }
        else
        {
            logger.LogInformation("{Connector} still refuses ({Reason}); tried again in {Interval}", paused.Connector, paused.Reason, settings.PausedRetryDelay);
        }

        return new MessageDisposition.Reschedule(now + settings.PausedRetryDelay, message.Attempt, paused.Message, paused.Connector);
    }

    /// <summary>What is kept of a failure for the reschedule and the dead-letter description.</summary>
    private sealed record Failure(string Reason, TimeSpan? RetryAfter)
    {
        public static Failure Of(Exception ex) => ex is TransientFailureException transient
            ? new Failure(transient.Message, transient.RetryAfter)
            : new Failure($"unexpected {ex.GetType().Name}: {ex.Message}", null);
    }

    /// <summary>30 s, 1 min, 2 min … capped at the maximum: growing, so an outage is waited out rather than hammered.</summary>
    public static TimeSpan RescheduleDelay(MessagingOptions settings, int attempt)
    {
        var factor = Math.Pow(2, Math.Min(attempt, 20));
        var delay = TimeSpan.FromTicks((long)Math.Min(settings.FirstRescheduleDelay.Ticks * factor, settings.MaxRescheduleDelay.Ticks));
        return delay;
    }
}
