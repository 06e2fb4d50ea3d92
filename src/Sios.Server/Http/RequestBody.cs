using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Sios.Server.Http;

/// <summary>Reads a JSON request body as the exact bytes received: what the request commitment is computed over.</summary>
internal static class RequestBody
{
    /// <summary>
    /// The whole body, refusing a media type other than JSON (415) and a body over <paramref name="limit"/> bytes
    /// (413) before reading more than the limit.
    /// </summary>
    public static async Task<byte[]> ReadJsonAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (request.ContentType is { Length: > 0 } type && !IsJson(type) && !(IsCurlForm(type) && ErrorShapes.For(request) == ErrorShape.Ollama))
        {
            throw new ApiException(415, $"The body must be JSON: send 'Content-Type: application/json' (got '{type}').", code: "unsupported_media_type");
        }

        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } max)
        {
            max.MaxRequestBodySize = limit;
        }

        var reader = request.BodyReader;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (IOException e) when (!context.RequestAborted.IsCancellationRequested)
            {
                // Kestrel reports some broken framing (a chunk size that overflows) as a bare IOException rather than
                // a BadHttpRequestException: the client's doing all the same, and never a 500.
                throw new ApiException(400, $"The request body's framing is malformed: {e.Message}", code: "bad_request", inner: e);
            }

            if (read.Buffer.Length > limit)
            {
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                throw TooLarge(limit);
            }

            if (read.IsCompleted)
            {
                var bytes = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return bytes;
            }

            // Nothing consumed, everything examined: the next read waits for more bytes.
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static bool IsJson(string contentType)
    {
        var media = contentType.Split(';', 2)[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// curl's label for a body given with <c>-d</c>. Ollama reads every body as JSON, and its documentation's examples
    /// are <c>curl … -d '{…}'</c>, so its door reads a body so labelled as JSON too.
    /// </summary>
    private static bool IsCurlForm(string contentType) =>
        contentType.Split(';', 2)[0].Trim().Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    private static ApiException TooLarge(long limit) =>
        new(413, $"The request body is larger than this server accepts ({limit:N0} bytes).", code: "request_too_large");
}
