using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Sios.Witness;

/// <summary>
/// What the witness's console reads, all public (a witness's cosignatures exist to be seen): <c>GET /witness/logs</c>,
/// its name and cosigner vkeys and, per log it follows, the log's vkeys and the latest cosigned checkpoint; and
/// <c>GET /witness/record?from=OFFSET</c>, its append-only record of every cosignature, a page at a time.
/// </summary>
internal static class WitnessPages
{
    private const int PageRecords = 50;
    private const int PageBytes = 1 << 20;

    public static void MapWitnessPages(this IEndpointRouteBuilder app, WitnessFolder folder, WitnessState state)
    {
        app.MapGet("/witness/logs", (HttpContext context) => WriteJsonAsync(context, json =>
        {
            json.WriteString("name", folder.Config.Name);
            Strings(json, "vkeys", folder.Config.Cosigners);
            json.WriteStartArray("logs");
            foreach (var log in folder.Config.Logs.OrderBy(l => l.Origin, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("origin", log.Origin);
                Strings(json, "vkeys", log.Vkeys);
                if (state.Latest(log.Origin) is { } latest)
                {
                    json.WriteString("latest", Encoding.UTF8.GetString(latest.Note));
                }
                else
                {
                    json.WriteNull("latest");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }));
        app.MapGet("/witness/record", (HttpContext context) =>
        {
            var from = context.Request.Query["from"];
            long offset = 0;
            if (from.Count > 1 || (from.Count == 1 && !long.TryParse(from[0], NumberStyles.None, CultureInfo.InvariantCulture, out offset)))
            {
                return Text(context, 400, "'from' is the byte offset of a record, as 'next' gave it");
            }

            List<(long Offset, byte[] Note)> records;
            long next;
            try
            {
                (records, next) = WitnessRecord.ReadPage(Path.Combine(folder.Path, "record"), offset, PageRecords, PageBytes);
            }
            catch (InvalidDataException e)
            {
                return Text(context, 400, e.Message);
            }

            return WriteJsonAsync(context, json =>
            {
                json.WriteStartArray("records");
                foreach (var (at, note) in records)
                {
                    json.WriteStartObject();
                    json.WriteNumber("offset", at);
                    json.WriteString("note", Encoding.UTF8.GetString(note));
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteNumber("next", next);
            });
        });
    }

    private static Task Text(HttpContext context, int status, string message)
    {
        var body = Encoding.UTF8.GetBytes(message + "\n");
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body).AsTask();
    }

    private static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.ContentLength = buffer.Length;
        return context.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }
}
