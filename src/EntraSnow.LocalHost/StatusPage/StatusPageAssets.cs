namespace EntraSnow.LocalHost.StatusPage;

/// <summary>
/// The page's three files, embedded in the assembly (no CDN, nothing to deploy beside the host), served with headers that
/// keep them from being framed (the replay button cannot be clickjacked) or loading anything from elsewhere.
/// </summary>
internal static class StatusPageAssets
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["status.js"] = "text/javascript; charset=utf-8",
        ["status.css"] = "text/css; charset=utf-8",
    };

    public static IResult Serve(string file)
    {
        if (!ContentTypes.TryGetValue(file, out var contentType) || typeof(StatusPageAssets).Assembly.GetManifestResourceStream($"StatusPage.{file}") is not { } stream)
        {
            return Results.NotFound();
        }

        return new AssetResult(stream, contentType);
    }

    private sealed class AssetResult(Stream content, string contentType) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var headers = httpContext.Response.Headers;
            headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            httpContext.Response.ContentType = contentType;
            await using (content)
            {
                await content.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted);
            }
        }
    }
}
