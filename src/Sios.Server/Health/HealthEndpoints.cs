using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Server.Hosting;

namespace Sios.Server.Health;

/// <summary><c>/healthz</c> (no key needed: it tells only that the gateway runs and how big the log is) and <c>/metrics</c> (Prometheus).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", (HttpContext context, SiosServices services, SiosServerOptions options) =>
        {
            var latest = services.Log.Latest;
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("status", "ok");
                json.WriteString("version", options.Version);
                json.WriteString("origin", services.Log.Origin);
                json.WriteNumber("log_size", latest.Size);
                json.WriteEndObject();
            }

            context.Response.Headers.CacheControl = "no-store";
            return Results.Bytes(buffer.ToArray(), "application/json");
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
