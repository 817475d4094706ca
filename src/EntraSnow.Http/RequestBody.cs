using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace EntraSnow.Http;

/// <summary>Reads a request body up to a limit, so an oversized body is refused without being buffered whole.</summary>
internal static class RequestBody
{
    public const long MaxBytes = 1024 * 1024;

    /// <returns>The body, or null when it is larger than <paramref name="limit"/>.</returns>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } declared && declared > limit)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is { } length and > 0 ? (int)length : 4096);
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static bool IsJson(HttpRequest request, params string[] mediaTypes)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var media = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
        return mediaTypes.Any(m => media.Equals(m, StringComparison.OrdinalIgnoreCase));
    }
}
