using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors;

/// <summary>The bodies doors write: one compact JSON object, as the exact bytes that are sent (and committed to).</summary>
internal static class DoorJson
{
    /// <summary>The bytes of one JSON object whose members <paramref name="members"/> writes.</summary>
    public static byte[] Object(Action<Utf8JsonWriter> members)
    {
        using var buffer = new MemoryStream(512);
        using (var json = new Utf8JsonWriter(buffer, InferenceSealer.JsonOptions))
        {
            json.WriteStartObject();
            members(json);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Sends <paramref name="body"/> as a whole 200 JSON answer (an unsealed one: a listing, not an inference).</summary>
    public static Task WriteAsync(HttpContext context, byte[] body)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
