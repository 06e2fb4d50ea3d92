using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Server.Hosting;

namespace Sios.Server.Health;

/// <summary><c>/healthz</c> (no key needed: it tells only whether the gateway can seal and how big the log is; 503 once the log stopped) and <c>/metrics</c> (Prometheus).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", (HttpContext context, SiosServices services, SiosServerOptions options) =>
        {
            var latest = services.Log.Latest;
            // A gateway whose log stopped answers every request with a 503 until it is restarted, so it is not ready, and
            // a probe that restarts unready instances is exactly the recovery it needs. The cause stays in the server
            // log: this endpoint needs no key, and a store error names paths.
            var stopped = services.Log.Failure is not null;
            // A node of a shared log whose store is away refuses answers until it is back, then resumes by itself.
            var storeProblem = services.Log.StoreProblem;
            var unavailable = stopped || storeProblem is not null;
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("status", unavailable ? "unavailable" : "ok");
                if (stopped)
                {
                    json.WriteString("reason", "the audit record stopped sealing after a failure (see the server log), so every answer is refused; fix the cause and restart the server");
                }
                else if (storeProblem is not null)
                {
                    json.WriteString("reason", "the shared log store cannot be reached (see the server log), so every answer is refused until it is back; the node resumes by itself");
                }

                json.WriteString("version", options.Version);
                json.WriteString("origin", services.Log.Origin);
                json.WriteNumber("log_size", latest.Size);
                json.WriteStartObject("store");
                json.WriteString("kind", services.Log.Shared ? "shared" : "embedded");
                // The node's name (a host name) stays in the record: this endpoint answers without a key.
                json.WriteString("role", services.Log.Shared ? "writer, in turns with the other nodes" : "sole writer");
                json.WriteBoolean("reachable", storeProblem is null);
                json.WriteEndObject();
                if (services.Witnessing is { } witnessing)
                {
                    WriteWitnessing(json, witnessing);
                }

                if (services.Timestamping is { } timestamping)
                {
                    WriteTimestamping(json, timestamping.Progress);
                }

                json.WriteEndObject();
            }

            context.Response.Headers.CacheControl = "no-store";
            context.Response.StatusCode = unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
            return Results.Bytes(buffer.ToArray(), "application/json");
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    // Names, sizes, counts and states only, as for witnesses: the TSA's own words (a failure's text names URLs and
    // errors) stay in the server log, and its name was cut to scheme, host and port by the host.
    internal static void WriteTimestamping(Utf8JsonWriter json, Ledger.Publication.TimestampProgress progress)
    {
        json.WriteStartObject("timestamping");
        json.WriteString("tsa", progress.Tsa);
        json.WriteString("state", progress.State switch
        {
            Ledger.Publication.TimestampState.Pending => "pending",
            Ledger.Publication.TimestampState.Stamping => "stamping",
            Ledger.Publication.TimestampState.Unreachable => "unreachable",
            _ => "refused",
        });
        if (progress.StampedSize is { } stamped)
        {
            json.WriteNumber("stamped_size", stamped);
        }
        else
        {
            json.WriteNull("stamped_size");
        }

        if (progress.LastStatus is { } status)
        {
            json.WriteNumber("last_status", status);
        }

        json.WriteNumber("tokens", progress.Tokens);
        json.WriteNumber("failures", progress.Failures);
        json.WriteEndObject();
    }

    // Names, sizes and statuses only: what a witness answered in words stays in the server log and the sealed entry.
    internal static void WriteWitnessing(Utf8JsonWriter json, Ledger.Publication.CheckpointWitnessing witnessing)
    {
        json.WriteStartObject("witnessing");
        json.WriteString("quorum", witnessing.Policy.QuorumName);
        if (witnessing.Witnessed is { } witnessed)
        {
            json.WriteNumber("witnessed_size", witnessed.Size);
        }
        else
        {
            json.WriteNull("witnessed_size");
        }

        json.WriteStartArray("witnesses");
        foreach (var w in witnessing.Progress)
        {
            json.WriteStartObject();
            json.WriteString("name", w.Name);
            json.WriteNumber("held_size", w.HeldSize);
            json.WriteString("state", w.LastStatus switch
            {
                null => w.Url is null ? "not asked" : "pending",
                200 => "cosigning",
                0 => "unreachable",
                _ => "refused",
            });
            if (w.LastStatus is { } status and not 0)
            {
                json.WriteNumber("last_status", status);
            }

            json.WriteNumber("cosigned", w.Cosigned);
            json.WriteNumber("refused", w.Refused);
            json.WriteNumber("unreachable", w.Unreachable);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
