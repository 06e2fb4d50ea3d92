using System.Text.Json;

namespace Sios.Server.Inference;

/// <summary>Answer bodies as every door writes them: one compact JSON object, in the sealed output encoding.</summary>
internal static class AnswerJson
{
    /// <summary>The bytes of the object whose members <paramref name="body"/> writes.</summary>
    public static byte[] Object(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream(512);
        using (var json = new Utf8JsonWriter(buffer, InferenceSealer.JsonOptions))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
