using System.Globalization;
using System.Text.Json;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Risk;

/// <summary>What one poll did.</summary>
public sealed record RiskPollResult(int Pages, int Detections, DateTimeOffset Watermark, bool Resumed);

/// <summary>
/// Reads Identity Protection's risk detections updated since the stored watermark (less the overlap window) and queues
/// each on <c>risk-detections</c>. Graph promises no order across pages, so the watermark only moves once every page is
/// durably queued; after each queued page the link to the next one is stored, so a run cut off half-way (a crash, a 429
/// storm past our patience) resumes from the first page not yet queued instead of losing or re-reading it.
/// </summary>
internal sealed class RiskDetectionPoller(
    IDirectory directory,
    IMessageQueue queue,
    ICheckpointStore checkpoints,
    IOptions<RiskOptions> options,
    TimeProvider clock,
    ILogger<RiskDetectionPoller> logger)
{
    public const string WatermarkKey = "risk-detections.watermark";
    public const string ResumeKey = "risk-detections.resume";

    public async Task<RiskPollResult> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var stored = await checkpoints.GetAsync(WatermarkKey, cancellationToken);
        var watermark = stored is null ? clock.GetUtcNow() : DateTimeOffset.Parse(stored, CultureInfo.InvariantCulture);
        var resume = await ReadResumeAsync(cancellationToken);
        var updatedAfter = watermark - settings.Overlap;
        var newest = resume?.Newest ?? watermark;
        int pages = 0, detections = 0;
        try
        {
            await foreach (var page in directory.GetRiskDetectionPagesAsync(updatedAfter, resume?.NextLink, cancellationToken))
            {
                (pages, detections, newest) = await QueuePageAsync(page, pages, detections, newest, settings.TenantId, cancellationToken);
            }
        }
        catch (GraphRequestException ex) when (resume is not null && pages == 0 && ex.StatusCode is not (401 or 403))
        {
            // Graph no longer accepts the stored next link: read the whole window again (what was queued dedupes).
            logger.LogWarning("The stored risk detection page link was refused ({Status} {Code}); reading from {UpdatedAfter} again", ex.StatusCode, ex.ErrorCode, updatedAfter);
            await checkpoints.DeleteAsync(ResumeKey, cancellationToken);
            resume = null;
            await foreach (var page in directory.GetRiskDetectionPagesAsync(updatedAfter, null, cancellationToken))
            {
                (pages, detections, newest) = await QueuePageAsync(page, pages, detections, newest, settings.TenantId, cancellationToken);
            }
        }

        await checkpoints.SetAsync(WatermarkKey, newest.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), cancellationToken);
        await checkpoints.DeleteAsync(ResumeKey, cancellationToken);
        logger.LogInformation("Risk poll queued {Detections} detections from {Pages} pages updated after {UpdatedAfter}; watermark now {Watermark}",
            detections, pages, updatedAfter, newest);
        return new RiskPollResult(pages, detections, newest, resume is not null);
    }

    private async Task<(int Pages, int Detections, DateTimeOffset Newest)> QueuePageAsync(
        RiskDetectionPage page, int pages, int detections, DateTimeOffset newest, string tenantId, CancellationToken cancellationToken)
    {
        if (page.Items.Count > 0)
        {
            await queue.SendAsync(QueueNames.RiskDetections, page.Items.Select(d => RiskDetectionMessage.From(d, tenantId)).ToList(), cancellationToken);
            var latest = page.Items.Max(d => d.UpdatedAt);
            newest = latest > newest ? latest : newest;
        }

        if (page.NextLink is not null)
        {
            var resume = new ResumePoint(page.NextLink, newest);
            await checkpoints.SetAsync(ResumeKey, JsonSerializer.Serialize(resume, ResumeJson), cancellationToken);
        }

        return (pages + 1, detections + page.Items.Count, newest);
    }

    private async Task<ResumePoint?> ReadResumeAsync(CancellationToken cancellationToken)
    {
        var text = await checkpoints.GetAsync(ResumeKey, cancellationToken);
        try
        {
            return text is null ? null : JsonSerializer.Deserialize<ResumePoint>(text, ResumeJson);
        }
        catch (JsonException)
        {
            logger.LogWarning("Ignoring an unreadable risk poll resume point");
            return null;
        }
    }

    private static readonly JsonSerializerOptions ResumeJson = new(JsonSerializerDefaults.Web);

    /// <summary>Where a cut-off run continues, and the newest change it had queued so far.</summary>
    private sealed record ResumePoint(string NextLink, DateTimeOffset Newest);
}
