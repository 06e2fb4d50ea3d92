using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Sios.Server.Http;

/// <summary>
/// Browser access for the web origins the operator listed (<c>--cors-origin</c>) and for no other. It runs outermost
/// and sets its headers before anything else runs; nothing after it clears response headers, so sealed answers,
/// streams and the error bodies of <see cref="ErrorResponses"/> (401, 404, 503 ...) all carry them, and a browser app
/// can read its receipt headers and its errors alike.
/// <para>
/// Preflights (<c>OPTIONS</c> with <c>Origin</c> and <c>Access-Control-Request-Method</c>) are answered here, before
/// authentication and sealing: they carry no key and no content. Every preflight is a 204, with the CORS headers only
/// for a listed origin: a refused origin then fails in the browser with "no Access-Control-Allow-Origin header", which
/// points at the cause, where a 403 or the 405 of the routes would read as a broken server.
/// </para>
/// <para>
/// Written here rather than with ASP.NET Core's CorsMiddleware, which sends no <c>Vary: Origin</c> when one origin is
/// listed, nor on its answers to other origins: a shared cache could then hand one origin's answer to another.
/// </para>
/// </summary>
internal static class CorsPolicy
{
    /// <summary>What a browser app may read of an answer besides the CORS-safelisted headers: the receipt, and when to retry.</summary>
    public const string ExposedHeaders = "Sios-Log-Index, Sios-Receipt, Sios-Request-Nonce, Sios-Response-Nonce, Sios-Begin-Index, Retry-After, Server-Timing";

    private const string AllowedMethods = "GET, POST, DELETE, OPTIONS";

    // Chromium caps a preflight's cache at two hours; ten minutes keeps a changed list from lingering long in browsers.
    private const string MaxAgeSeconds = "600";

    /// <summary>Answers preflights, and marks the answers to <paramref name="origins"/> readable by their pages.</summary>
    public static IApplicationBuilder UseCorsPolicy(this IApplicationBuilder app, IReadOnlyList<string> origins)
    {
        var allowed = origins.ToFrozenSet(StringComparer.Ordinal);
        return app.Use((context, next) =>
        {
            var request = context.Request;
            var headers = context.Response.Headers;
            var origin = request.Headers.Origin;
            var listed = origin.Count == 1 && allowed.Contains(origin[0]!);
            if (allowed.Count > 0)
            {
                headers.Append(HeaderNames.Vary, HeaderNames.Origin);
            }

            if (listed)
            {
                headers.AccessControlAllowOrigin = origin;
            }

            if (HttpMethods.IsOptions(request.Method) && origin.Count > 0 && request.Headers.AccessControlRequestMethod.Count > 0)
            {
                if (listed)
                {
                    headers.AccessControlAllowMethods = AllowedMethods;
                    // The SDKs' own headers (x-stainless-*, anthropic-*, openai-*) change from release to release: any
                    // header the page asks for is allowed, since the key in it is what is checked, not its name.
                    if (request.Headers.AccessControlRequestHeaders.Count > 0)
                    {
                        headers.AccessControlAllowHeaders = request.Headers.AccessControlRequestHeaders.ToString();
                    }

                    headers.AccessControlMaxAge = MaxAgeSeconds;
                }

                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return Task.CompletedTask;
            }

            if (listed)
            {
                headers.AccessControlExposeHeaders = ExposedHeaders;
            }

            return next(context);
        });
    }
}
