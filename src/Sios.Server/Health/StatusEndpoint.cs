using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sios.Server.Hosting;
using Sios.Server.Http;

namespace Sios.Server.Health;

/// <summary>
/// <c>GET /status</c> for auditor and admin keys (the console's overview): what this node says it serves now — its
/// brains with their pinned digests and whether they are loaded, the memory budget, the egress allow-list, the config
/// digest, the index of the newest attestation, and witnessing and time-stamping progress. It is the server's word,
/// shown as such: the console checks what it can of it against the signed attestation.
/// </summary>
internal static class StatusEndpoint
{
    public static IEndpointRouteBuilder MapStatus(this IEndpointRouteBuilder app)
    {
        app.MapGet("/status", (HttpContext context, SiosServices services, SiosServerOptions options, SiosMetrics metrics) =>
        {
            if (!Access.Authentication.Require(context, services.Keys, metrics).MayAudit)
            {
                throw new ApiException(403, "The status of this node needs an auditor or admin key.", "permission_error", code: "not_auditor");
            }

            var snapshot = services.Pool.Snapshot();
            var loaded = snapshot.Loaded.ToHashSet(StringComparer.Ordinal);
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("origin", services.Log.Origin);
                json.WriteNumber("log_size", services.Log.Latest.Size);
                json.WriteNumber("published_size", services.Published.Size);
                json.WriteString("config", options.ConfigDigest);
                json.WriteStartObject("egress");
                var hosts = services.Pool.Options.Egress.Listed;
                json.WriteBoolean("offline", hosts.Count == 0);
                Log.LogEndpoints.WriteStrings(json, "hosts", hosts);
                json.WriteEndObject();
                json.WriteStartObject("memory");
                json.WriteNumber("budget_bytes", services.Pool.Options.MemoryBudgetBytes);
                json.WriteNumber("used_bytes", snapshot.UsedBytes);
                json.WriteNumber("peak_bytes", snapshot.PeakBytes);
                json.WriteNumber("max_loaded", services.Pool.Options.MaxLoaded);
                json.WriteNumber("loads", snapshot.Loads);
                json.WriteNumber("evictions", snapshot.Evictions);
                json.WriteEndObject();
                json.WriteStartArray("brains");
                foreach (var brain in services.Brains.List().OrderBy(b => b.Name, StringComparer.Ordinal))
                {
                    json.WriteStartObject();
                    json.WriteString("name", brain.Name);
                    if (brain.Upstream is { } upstream)
                    {
                        json.WriteString("kind", "upstream");
                        json.WriteString("url", upstream.Url.AbsoluteUri);
                        json.WriteString("model", upstream.Model);
                    }
                    else
                    {
                        json.WriteString("kind", "local");
                        json.WriteString("weights", brain.ModelSha256);
                        json.WriteString("adapter", brain.AdapterSha256);
                        json.WriteString("template", brain.ChatTemplateSha256);
                    }

                    json.WriteBoolean("loaded", loaded.Contains(brain.Name));
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                if (services.LatestAttestation?.Invoke() is { } attestation)
                {
                    json.WriteNumber("attestation", attestation.Index);
                }
                else
                {
                    json.WriteNull("attestation");
                }

                if (services.Witnessing is { } witnessing)
                {
                    HealthEndpoints.WriteWitnessing(json, witnessing);
                    Log.LogEndpoints.WriteStrings(json, "witness_vkeys", witnessing.Policy.Witnesses.Select(w => w.Key.ToString()));
                }

                if (services.Timestamping is { } timestamping)
                {
                    HealthEndpoints.WriteTimestamping(json, timestamping.Progress);
                }

                json.WriteEndObject();
            }

            context.Response.Headers.CacheControl = "no-store";
            return Results.Bytes(buffer.ToArray(), "application/json");
        });
        return app;
    }
}
