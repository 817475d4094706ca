using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>The Table API, /oauth_token.do and the sandbox admin routes, all under one prefix.</summary>
internal sealed class ServiceNowEmulatorEndpoints(string prefix)
{
    private const int DefaultLimit = 10_000;

    public static readonly string[] Versions = ["table", "v1/table", "v2/table"];

    // ---- filters ----------------------------------------------------------------------------------------------

    /// <summary>Outage, latency and 5xx bursts: every route except the admin ones.</summary>
    public static async ValueTask<object?> InjectFaults(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var faults = http.RequestServices.GetRequiredService<ServiceNowFaults>();
        var counters = http.RequestServices.GetRequiredService<ServiceNowEmulatorCounters>();
        if (faults.Outage)
        {
            counters.CountDropped();
            http.Abort(); // The client sees the connection drop, as with an instance that is down.
            return Results.Empty;
        }

        // API requests are counted while they are served, latency included: what the instance sees in flight at once.
        var api = http.Request.Path.Value?.Contains("/api/now/", StringComparison.Ordinal) == true;
        if (api)
        {
            counters.EnterRequest();
        }

        try
        {
            if (faults.Latency > TimeSpan.Zero)
            {
                await Task.Delay(faults.Latency, http.RequestAborted);
            }

            if (faults.TryTakeFailure(out var status))
            {
                counters.CountFailed();
                return Json(status, ServiceNowRecordJson.Error("Service Unavailable", "The instance is temporarily unable to handle the request."));
            }

            return await next(context);
        }
        finally
        {
            if (api)
            {
                counters.LeaveRequest();
            }
        }
    }

    /// <summary>Rate limiting, authentication and ACLs: the Table API routes.</summary>
    public static async ValueTask<object?> GuardTable(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var services = http.RequestServices;
        var faults = services.GetRequiredService<ServiceNowFaults>();
        var counters = services.GetRequiredService<ServiceNowEmulatorCounters>();
        var options = services.GetRequiredService<IOptions<ServiceNowEmulatorOptions>>().Value;
        if (faults.TryTakeRateLimit(out var retryAfter))
        {
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            return RateLimited(http, counters, options.RateLimitPerHour ?? FaultRateLimitPerHour, now + retryAfter, retryAfter);
        }

        if (services.GetRequiredService<ServiceNowCredentials>().Revoked || !IsAuthenticated(http, options, services.GetRequiredService<ServiceNowTokenIssuer>()))
        {
            counters.CountUnauthorized();
            http.Response.Headers.WWWAuthenticate = "BASIC realm=\"Service-now\"";
            return Json(StatusCodes.Status401Unauthorized, ServiceNowRecordJson.Error("User Not Authenticated", "Required to provide Auth information"));
        }

        // A rule counts the authenticated user's requests (the integration account: tokens act as it too).
        var rule = services.GetRequiredService<ServiceNowRateLimitRule>();
        if (rule.Enabled)
        {
            var allowed = rule.TryTake(options.Username, out var limit, out var resetAt);
            http.Response.Headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["X-RateLimit-Reset"] = resetAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["X-RateLimit-Rule"] = ServiceNowRateLimitRule.RuleSysId;
            if (!allowed)
            {
                var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
                return RateLimited(http, counters, limit, resetAt, resetAt - now);
            }
        }

        var table = http.Request.RouteValues["table"] as string ?? string.Empty;
        if (!services.GetRequiredService<ServiceNowDictionary>().HasTable(table))
        {
            // A real instance refuses a table it does not have, whatever the method.
            return Json(StatusCodes.Status400BadRequest, ServiceNowRecordJson.Error($"Invalid table {table}", null));
        }

        var writes = !HttpMethods.IsGet(http.Request.Method);
        if (faults.IsDenied(table) || services.GetRequiredService<ServiceNowRecordAcl>().Denies(http.Request)
            || (writes && !services.GetRequiredService<ServiceNowIntegrationUser>().MayWrite(table)))
        {
            return Json(StatusCodes.Status403Forbidden, ServiceNowRecordJson.Error(
                "Operation Failed",
                $"ACL Exception {http.Request.Method} Failed due to security constraints"));
        }

        counters.CountServed(http.Request.Method, table);
        return await next(context);
    }

    /// <summary>The limit a 429 of <see cref="ServiceNowFaults.RateLimitNext"/> reports when no rule is configured.</summary>
    private const int FaultRateLimitPerHour = 5000;

    /// <summary>429 as ServiceNow answers a request over its rule: Retry-After in whole seconds, the X-RateLimit-* headers, the error body.</summary>
    private static IResult RateLimited(HttpContext http, ServiceNowEmulatorCounters counters, int limit, DateTimeOffset resetAt, TimeSpan retryAfter)
    {
        counters.CountRateLimited();
        var seconds = Math.Max(0, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["X-RateLimit-Reset"] = resetAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["X-RateLimit-Rule"] = ServiceNowRateLimitRule.RuleSysId;
        return Json(StatusCodes.Status429TooManyRequests, ServiceNowRecordJson.Error(
            "Rate limit exceeded",
            $"Rate limit of {limit} requests per hour for Table API exceeded"));
    }

    private static bool IsAuthenticated(HttpContext http, ServiceNowEmulatorOptions options, ServiceNowTokenIssuer tokens)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return tokens.IsValid(header["Bearer ".Length..].Trim());
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                return colon > 0
                    && SameSecret(decoded[..colon], options.Username)
                    && SameSecret(decoded[(colon + 1)..], options.Password);
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return false;
    }

    private static bool SameSecret(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    // ---- /oauth_token.do --------------------------------------------------------------------------------------

    public static async Task<IResult> IssueToken(HttpContext http)
    {
        var services = http.RequestServices;
        var options = services.GetRequiredService<IOptions<ServiceNowEmulatorOptions>>().Value;
        if (!http.Request.HasFormContentType)
        {
            return Results.Json(new { error = "invalid_request", error_description = "form body expected" }, statusCode: 400);
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var grant = form["grant_type"].ToString();
        var clientId = form["client_id"].ToString();
        var clientSecret = form["client_secret"].ToString();
        var clientOk = SameSecret(clientId, options.ClientId) && SameSecret(clientSecret, options.ClientSecret);
        var accepted = grant switch
        {
            "client_credentials" => clientOk,
            "password" => clientOk && SameSecret(form["username"].ToString(), options.Username) && SameSecret(form["password"].ToString(), options.Password),
            _ => false,
        };
        if (grant is not ("client_credentials" or "password"))
        {
            return Results.Json(new { error = "unsupported_grant_type", error_description = "access_denied" }, statusCode: 400);
        }

        if (!accepted || services.GetRequiredService<ServiceNowCredentials>().Revoked)
        {
            services.GetRequiredService<ServiceNowEmulatorCounters>().CountUnauthorized();
            return Results.Json(new { error_description = "access_denied", error = "server_error" }, statusCode: 401);
        }

        var (token, lifetime) = services.GetRequiredService<ServiceNowTokenIssuer>().Issue();
        services.GetRequiredService<ServiceNowEmulatorCounters>().CountTokenIssued();
        return Results.Json(new
        {
            access_token = token,
            scope = "useraccount",
            token_type = "Bearer",
            expires_in = (int)lifetime.TotalSeconds,
        });
    }

    // ---- Table API --------------------------------------------------------------------------------------------

    public IResult List(HttpContext http, string table, bool v1)
    {
        var store = http.RequestServices.GetRequiredService<ServiceNowEmulatorStore>();
        var query = http.Request.Query;
        var limit = int.TryParse(query["sysparm_limit"], CultureInfo.InvariantCulture, out var l) && l > 0 ? l : DefaultLimit;
        var offset = int.TryParse(query["sysparm_offset"], CultureInfo.InvariantCulture, out var o) && o > 0 ? o : 0;
        var dictionary = http.RequestServices.GetRequiredService<ServiceNowDictionary>();
        var caller = http.RequestServices.GetRequiredService<ServiceNowIntegrationUser>();
        var encodedQuery = caller.Evaluate(EncodedQueryOf(query, ServiceNowTableSchemas.For(table)));
        if (table is "sys_user_has_role" or "sys_user_role")
        {
            caller.StoreRoles();
        }

        var (page, total) = table == ServiceNowDictionary.Table
            ? dictionary.Page(encodedQuery, offset, limit)
            : store.Page(table, encodedQuery, offset, limit, dictionary.KnownField(table), dictionary.InvalidQueryReturnsNoRows);
        if (v1 && page.Count == 0)
        {
            return Json(StatusCodes.Status404NotFound, ServiceNowRecordJson.Error("No Record found", "Records matching query not found. Check query parameter or offset parameter"));
        }

        http.Response.Headers["X-Total-Count"] = total.ToString(CultureInfo.InvariantCulture);
        if (!string.Equals(query["sysparm_suppress_pagination_header"], "true", StringComparison.OrdinalIgnoreCase))
        {
            var link = PagingLinks(http, offset, limit, total);
            if (link.Length > 0)
            {
                http.Response.Headers.Link = link;
            }
        }

        var (fields, mode, excludeLinks) = ReadOptions(http);
        var apiRoot = ApiRoot(http);
        var body = ServiceNowRecordJson.Result(w =>
        {
            w.WriteStartArray();
            foreach (var record in page)
            {
                ServiceNowRecordJson.WriteRecord(w, store, table, record, fields, mode, excludeLinks, apiRoot);
            }

            w.WriteEndArray();
        });
        return Json(StatusCodes.Status200OK, body);
    }

    /// <summary>
    /// sysparm_query, or else the name=value pairs of the query string (the Table API treats them as mutually exclusive):
    /// each pair an "and" term; a reference field matches its sys_id or the display value of the record it points at.
    /// </summary>
    internal static string? EncodedQueryOf(IQueryCollection query, TableSchema schema)
    {
        var encoded = query["sysparm_query"].ToString();
        if (encoded.Length > 0)
        {
            return encoded;
        }

        var terms = new List<string>();
        foreach (var (name, values) in query)
        {
            if (name.StartsWith("sysparm_", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var raw in values)
            {
                var value = (raw ?? string.Empty).Replace("^", "^^", StringComparison.Ordinal);
                terms.Add(schema.References.TryGetValue(name, out var target)
                    ? $"{name}={value}^OR{name}.{ServiceNowTableSchemas.For(target).DisplayField}={value}"
                    : $"{name}={value}");
            }
        }

        return terms.Count == 0 ? null : string.Join('^', terms);
    }

    public IResult Get(HttpContext http, string table, string sysId)
    {
        var store = http.RequestServices.GetRequiredService<ServiceNowEmulatorStore>();
        return store.Get(table, sysId) is { } record
            ? RecordResult(http, store, table, new Dictionary<string, string>(record, StringComparer.Ordinal), StatusCodes.Status200OK)
            : NotFound();
    }

    public async Task<IResult> Create(HttpContext http, string table)
    {
        var fields = await ReadBodyAsync(http);
        if (fields is null)
        {
            return InvalidBody();
        }

        var store = http.RequestServices.GetRequiredService<ServiceNowEmulatorStore>();
        var created = store.Insert(table, http.RequestServices.GetRequiredService<ServiceNowDictionary>().Keep(table, fields), UserOf(http));
        http.Response.Headers.Location = $"{ApiRoot(http)}/api/now/table/{table}/{created["sys_id"]}";
        return RecordResult(http, store, table, new Dictionary<string, string>(created, StringComparer.Ordinal), StatusCodes.Status201Created);
    }

    public async Task<IResult> Update(HttpContext http, string table, string sysId)
    {
        var fields = await ReadBodyAsync(http);
        if (fields is null)
        {
            return InvalidBody();
        }

        var store = http.RequestServices.GetRequiredService<ServiceNowEmulatorStore>();
        return store.Update(table, sysId, http.RequestServices.GetRequiredService<ServiceNowDictionary>().Keep(table, fields), UserOf(http)) is { } updated
            ? RecordResult(http, store, table, new Dictionary<string, string>(updated, StringComparer.Ordinal), StatusCodes.Status200OK)
            : NotFound();
    }

    public static IResult Delete(HttpContext http, string table, string sysId) =>
        http.RequestServices.GetRequiredService<ServiceNowEmulatorStore>().Delete(table, sysId) ? Results.NoContent() : NotFound();

    private IResult RecordResult(HttpContext http, ServiceNowEmulatorStore store, string table, Dictionary<string, string> record, int status)
    {
        var (fields, mode, excludeLinks) = ReadOptions(http);
        var apiRoot = ApiRoot(http);
        return Json(status, ServiceNowRecordJson.Result(w => ServiceNowRecordJson.WriteRecord(w, store, table, record, fields, mode, excludeLinks, apiRoot)));
    }

    private static (IReadOnlyList<string>? Fields, DisplayMode Mode, bool ExcludeLinks) ReadOptions(HttpContext http)
    {
        var query = http.Request.Query;
        var fieldList = query["sysparm_fields"].ToString();
        IReadOnlyList<string>? fields = fieldList.Length == 0
            ? null
            : fieldList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        var mode = query["sysparm_display_value"].ToString().ToLowerInvariant() switch
        {
            "true" => DisplayMode.Display,
            "all" => DisplayMode.All,
            _ => DisplayMode.Values,
        };
        var exclude = string.Equals(query["sysparm_exclude_reference_link"], "true", StringComparison.OrdinalIgnoreCase);
        return (fields, mode, exclude);
    }

    private static async Task<Dictionary<string, string>?> ReadBodyAsync(HttpContext http)
    {
        try
        {
            using var body = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
            return ServiceNowRecordJson.ReadFields(body.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string UserOf(HttpContext http)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<ServiceNowEmulatorOptions>>().Value;
        return options.Username;
    }

    /// <summary>The absolute root the API is served under (scheme, host, path base, prefix), for links.</summary>
    private string ApiRoot(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{prefix}";

    private static string PagingLinks(HttpContext http, int offset, int limit, int total)
    {
        var request = http.Request;
        var path = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
        var others = request.Query
            .Where(p => p.Key is not ("sysparm_offset" or "sysparm_limit"))
            .SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? string.Empty)}"))
            .ToList();
        string Url(int at) => $"<{path}?{string.Join('&', others.Append($"sysparm_limit={limit}").Append($"sysparm_offset={at}"))}>";

        var lastOffset = total == 0 ? 0 : (total - 1) / limit * limit;
        var links = new List<string> { $"{Url(0)};rel=\"first\"" };
        if (offset > 0)
        {
            links.Add($"{Url(Math.Max(0, offset - limit))};rel=\"prev\"");
        }

        if (offset + limit < total)
        {
            links.Add($"{Url(offset + limit)};rel=\"next\"");
        }

        links.Add($"{Url(lastOffset)};rel=\"last\"");
        return string.Join(',', links);
    }

    private static IResult NotFound() =>
        Json(StatusCodes.Status404NotFound, ServiceNowRecordJson.Error("No Record found", "Record doesn't exist or ACL restricts the record retrieval"));

    private static IResult InvalidBody() =>
        Json(StatusCodes.Status400BadRequest, ServiceNowRecordJson.Error("Exception while reading request", "The payload is not valid JSON."));

    private static IResult Json(int status, string body) => Results.Text(body, ServiceNowRecordJson.ContentType, statusCode: status);
}
