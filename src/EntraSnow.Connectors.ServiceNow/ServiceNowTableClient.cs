using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Connectors.ServiceNow;

/// <summary>The Table API over the resilient named HttpClient; maps every failure to a typed <see cref="ServiceNowException"/>.</summary>
internal sealed partial class ServiceNowTableClient(
    IHttpClientFactory httpClientFactory,
    IOptions<ServiceNowOptions> options,
    ILogger<ServiceNowTableClient> logger) : IServiceNowTable
{
    public Task<ServiceNowRecord?> GetAsync(string table, string sysId, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default) =>
        GetAsync(table, sysId, new ServiceNowReadOptions { Fields = fields }, cancellationToken);

    public async Task<ServiceNowRecord?> GetAsync(string table, string sysId, ServiceNowReadOptions read, CancellationToken cancellationToken = default)
    {
        var uri = RecordUri(table, sysId, ReadParameters(read));
        using var response = await SendAsync(HttpMethod.Get, uri, table, null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, table, cancellationToken);
        return (await ReadRecordsAsync(response, cancellationToken)).FirstOrDefault();
    }

    public IAsyncEnumerable<ServiceNowRecord> QueryAsync(string table, EncodedQuery query, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default) =>
        QueryAsync(table, query, new ServiceNowReadOptions { Fields = fields }, cancellationToken);

    public async IAsyncEnumerable<ServiceNowRecord> QueryAsync(string table, EncodedQuery query, ServiceNowReadOptions read, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var parameters = ReadParameters(read);
        parameters.Insert(0, ("sysparm_query", query.ToString()));
        parameters.Add(("sysparm_limit", options.Value.PageSize.ToString()));
        parameters.Add(("sysparm_offset", "0"));
        Uri? next = TableUri(table, parameters);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (next is not null && seen.Add(next.AbsoluteUri))
        {
            List<ServiceNowRecord> page;
            using (var response = await SendAsync(HttpMethod.Get, next, table, null, cancellationToken))
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    yield break; // v1 answers 404 for "nothing matched".
                }

                await EnsureSuccessAsync(response, table, cancellationToken);
                page = await ReadRecordsAsync(response, cancellationToken);
                next = page.Count == 0 ? null : NextLink(response);
            }

            foreach (var record in page)
            {
                yield return record;
            }
        }
    }

    public async Task<ServiceNowRecord?> FindAsync(string table, EncodedQuery query, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default)
    {
        var parameters = ReadParameters(new ServiceNowReadOptions { Fields = fields, ExcludeReferenceLink = true });
        parameters.Insert(0, ("sysparm_query", query.ToString()));
        parameters.Add(("sysparm_limit", "1"));
        using var response = await SendAsync(HttpMethod.Get, TableUri(table, parameters), table, null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, table, cancellationToken);
        return (await ReadRecordsAsync(response, cancellationToken)).FirstOrDefault();
    }

    public async Task<int> CountAsync(string table, EncodedQuery query, CancellationToken cancellationToken = default)
    {
        var uri = TableUri(table, [("sysparm_query", query.ToString()), ("sysparm_fields", "sys_id"), ("sysparm_limit", "1")]);
        using var response = await SendAsync(HttpMethod.Get, uri, table, null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return 0;
        }

        await EnsureSuccessAsync(response, table, cancellationToken);
        if (response.Headers.TryGetValues("X-Total-Count", out var values)
            && int.TryParse(values.FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var total))
        {
            return total;
        }

        throw new ServiceNowException($"ServiceNow answered a {table} list without X-Total-Count.", (int)response.StatusCode);
    }

    public async Task<ServiceNowRecord> CreateAsync(string table, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default)
    {
        var uri = TableUri(table, [("sysparm_exclude_reference_link", "true")]);
        using var response = await SendAsync(HttpMethod.Post, uri, table, fields, cancellationToken);
        await EnsureSuccessAsync(response, table, cancellationToken);
        var created = (await ReadRecordsAsync(response, cancellationToken)).FirstOrDefault()
            ?? throw new ServiceNowException($"ServiceNow created a {table} record but answered without it.", (int)response.StatusCode);
        // Debug: the flows log each decision (created, updated, …) with its reason; this would say it twice.
        logger.LogDebug("Created {Table} record {SysId}", table, created.SysId);
        return created;
    }

    public async Task<ServiceNowRecord> UpdateAsync(string table, string sysId, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default)
    {
        var uri = RecordUri(table, sysId, [("sysparm_exclude_reference_link", "true")]);
        using var response = await SendAsync(HttpMethod.Patch, uri, table, fields, cancellationToken);
        await EnsureSuccessAsync(response, table, cancellationToken);
        var updated = (await ReadRecordsAsync(response, cancellationToken)).FirstOrDefault()
            ?? throw new ServiceNowException($"ServiceNow updated {table} record {sysId} but answered without it.", (int)response.StatusCode);
        logger.LogDebug("Updated {Table} record {SysId} ({FieldCount} fields)", table, sysId, fields.Count);
        return updated;
    }

    public async Task DeleteAsync(string table, string sysId, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Delete, RecordUri(table, sysId, []), table, null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return; // Already gone: deleting is idempotent.
        }

        await EnsureSuccessAsync(response, table, cancellationToken);
        logger.LogInformation("Deleted {Table} record {SysId}", table, sysId);
    }

    public Task<UpsertResult> UpsertAsync(string table, string keyField, string keyValue, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default) =>
        KeyedUpsert.RunAsync(this, table, keyField, keyValue, fields, cancellationToken);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, string table, IReadOnlyDictionary<string, string?>? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            // Null means "clear the field", which the Table API spells as an empty string.
            var payload = body.ToDictionary(p => p.Key, p => p.Value ?? string.Empty, StringComparer.Ordinal);
            request.Content = new StringContent(JsonSerializer.Serialize(payload), Encoding.UTF8, "application/json");
        }

        try
        {
            var client = httpClientFactory.CreateClient(ServiceNowServiceCollectionExtensions.TableClientName);
            return await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (ServiceNowException)
        {
            throw;
        }
        catch (Exception ex) when (ServiceNowResilience.IsPipelineRejection(ex) || ex is HttpRequestException)
        {
            logger.LogWarning("ServiceNow {Method} {Table} failed: {Failure}", method.Method, table, ex.GetType().Name);
            throw new ServiceNowUnreachableException($"ServiceNow could not be reached for {method.Method} {table} ({Describe(ex)}).", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServiceNowUnreachableException($"ServiceNow did not answer {method.Method} {table} in time.", ex);
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        Polly.CircuitBreaker.BrokenCircuitException => "circuit open after repeated failures",
        Polly.Timeout.TimeoutRejectedException => "timed out",
        HttpRequestException h when h.StatusCode is { } code => $"HTTP {(int)code}",
        HttpRequestException h => h.HttpRequestError.ToString(),
        _ => ex.GetType().Name,
    };

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string table, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var (message, detail) = ServiceNowJson.ReadError(body);
        message ??= response.ReasonPhrase ?? $"HTTP {status}";
        var method = response.RequestMessage?.Method.Method ?? "call";
        logger.LogWarning("ServiceNow {Method} {Table} answered {StatusCode}: {ErrorMessage}", method, table, status, message);
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => new ServiceNowUnauthorizedException($"ServiceNow refused the credentials: {message}", detail),
            HttpStatusCode.Forbidden => new ServiceNowForbiddenException($"ServiceNow forbids {method} on {table}: {message}", detail),
            HttpStatusCode.TooManyRequests => new ServiceNowRateLimitedException($"ServiceNow kept rate-limiting {method} {table} beyond the connector's patience: {message}", ServiceNowResilience.RetryAfter(response)),
            _ when status >= 500 => new ServiceNowUnreachableException($"ServiceNow answered {status} to {method} {table}: {message}", null, status),
            _ => new ServiceNowRequestException($"ServiceNow refused {method} {table}: {message}", status, detail),
        };
    }

    private static async Task<List<ServiceNowRecord>> ReadRecordsAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        if (response.Content.Headers.ContentLength == 0)
        {
            return [];
        }

        try
        {
            using var json = await JsonDocument.ParseAsync(stream, default, cancellationToken);
            return ServiceNowJson.ReadResult(json.RootElement);
        }
        catch (JsonException ex)
        {
            throw new ServiceNowException("ServiceNow answered with a body that is not JSON.", (int)response.StatusCode, null, ex);
        }
    }

    private Uri? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var headers))
        {
            return null;
        }

        foreach (Match match in LinkPattern().Matches(string.Join(',', headers)))
        {
            if (!string.Equals(match.Groups["rel"].Value, "next", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // Credentials go with the request: only follow links that stay on the configured instance.
            var baseUri = options.Value.BaseUri;
            if (Uri.TryCreate(match.Groups["url"].Value, UriKind.Absolute, out var next)
                && Uri.Compare(next, baseUri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
            {
                return next;
            }

            throw new ServiceNowException("ServiceNow's Link rel=\"next\" points away from the configured instance; not following it.");
        }

        return null;
    }

    private static List<(string Name, string Value)> ReadParameters(ServiceNowReadOptions read)
    {
        var parameters = new List<(string, string)>();
        if (read.Fields is { Count: > 0 } fields)
        {
            parameters.Add(("sysparm_fields", string.Join(',', fields)));
        }

        if (read.DisplayValue != ServiceNowDisplayValue.False)
        {
            parameters.Add(("sysparm_display_value", read.DisplayValue == ServiceNowDisplayValue.All ? "all" : "true"));
        }

        if (read.ExcludeReferenceLink)
        {
            parameters.Add(("sysparm_exclude_reference_link", "true"));
        }

        return parameters;
    }

    private Uri TableUri(string table, IEnumerable<(string Name, string Value)> parameters) =>
        BuildUri($"api/now/table/{CheckName(table, nameof(table))}", parameters);

    private Uri RecordUri(string table, string sysId, IEnumerable<(string Name, string Value)> parameters) =>
        BuildUri($"api/now/table/{CheckName(table, nameof(table))}/{CheckName(sysId, nameof(sysId))}", parameters);

    private Uri BuildUri(string relative, IEnumerable<(string Name, string Value)> parameters)
    {
        var query = string.Join('&', parameters.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}"));
        return new Uri(options.Value.BaseUri, query.Length == 0 ? relative : $"{relative}?{query}");
    }

    private static string CheckName(string name, string parameter)
    {
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"'{name}' is not a valid ServiceNow {parameter}.", parameter);
        }

        return name;
    }

    [GeneratedRegex("<(?<url>[^>]*)>\\s*;\\s*rel=\"?(?<rel>[A-Za-z]+)\"?")]
    private static partial Regex LinkPattern();
}
