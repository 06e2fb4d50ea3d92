using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Server.Http;

namespace Sios.Server.Console;

/// <summary>
/// The console's pages at <c>/console/</c>: a page, a script and a stylesheet bundled at build time (web/console) and
/// embedded in this assembly, so nothing is fetched from anywhere at run time and the console works on an air-gapped
/// network. The page needs no key to load; what it shows it reads from <c>/log/</c> with the key entered into it. Its
/// Content-Security-Policy allows scripts and styles from this server only and no inline code, so no text an entry
/// carries can run.
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>The policy every console response carries.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (string Type, byte[] Bytes)> Assets = Load();

    /// <summary>Whether the build embedded the console (it is built when web/console has its npm packages).</summary>
    public static bool IsBuilt => Assets.ContainsKey("index.html");

    public static void MapConsole(this IEndpointRouteBuilder app)
    {
        // The page's relative links need its address to end in '/': '/console' alone is sent there.
        app.MapGet("/console/{file?}", (HttpContext context, string? file) =>
        {
            if (file is null && !context.Request.Path.Value!.EndsWith('/'))
            {
                context.Response.Redirect("/console/");
                return Task.CompletedTask;
            }

            return ServeAsync(context, file ?? "index.html");
        });
    }

    private static Task ServeAsync(HttpContext context, string file)
    {
        if (!IsBuilt)
        {
            throw new ApiException(503, NotBuilt, ApiException.ServerError, code: "console_not_built");
        }

        return Assets.TryGetValue(file, out var asset)
            ? WriteAsync(context, asset)
            : throw new ApiException(404, $"The console has no '{file}'.", code: "not_found");
    }

    /// <summary>
    /// Serves the console's <paramref name="file"/> for a host without the gateway's error shapes (<c>sios witness
    /// serve</c>): a missing file is a plain-text 404, a console left out of the build a plain-text 503.
    /// </summary>
    public static Task ServePlainAsync(HttpContext context, string file)
    {
        if (IsBuilt && Assets.TryGetValue(file, out var asset))
        {
            return WriteAsync(context, asset);
        }

        var body = System.Text.Encoding.UTF8.GetBytes((IsBuilt ? $"The console has no '{file}'." : NotBuilt) + "\n");
        context.Response.StatusCode = IsBuilt ? 404 : 503;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private const string NotBuilt = "This server was built without its console: run 'npm install' in web/console, then build again.";

    private static Task WriteAsync(HttpContext context, (string Type, byte[] Bytes) asset)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers.CacheControl = "no-cache";
        context.Response.ContentType = asset.Type;
        context.Response.ContentLength = asset.Bytes.Length;
        return context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted).AsTask();
    }

    private static FrozenDictionary<string, (string Type, byte[] Bytes)> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var assets = new Dictionary<string, (string, byte[])>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("console/", StringComparison.Ordinal)))
        {
            var file = name["console/".Length..];
            var type = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => null,
            };
            if (type is null)
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            assets[file] = (type, copy.ToArray());
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
