using System.Globalization;
using System.Text.Json;
using Sios.Brains.Engines;

namespace Sios.Brains.Upstream;

/// <summary>What one chat.completion.chunk carries for the first choice.</summary>
internal readonly record struct ChunkContent(string? Text, FinishReason? Finish, Usage? Usage, IReadOnlyList<ToolCallDelta> Calls);

/// <summary>A fragment of a streamed tool call: its index, and the id, name and arguments text it adds (null where absent).</summary>
internal readonly record struct ToolCallDelta(int Index, string? Id, string? Name, string? Arguments);

/// <summary>
/// The OpenAI-compatible wire format as llama-server, vLLM and Ollama speak it: request bodies written with
/// <see cref="Utf8JsonWriter"/> and answers read with <see cref="JsonDocument"/>, each field checked for its type
/// so a malformed answer fails with <see cref="UpstreamProtocolException"/> rather than a cast or index error.
/// </summary>
internal static class OpenAiWire
{
    /// <summary>The body of a streamed chat completion for <paramref name="model"/>.</summary>
    public static byte[] ChatBody(string model, ChatRequest request)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteStartArray("messages");
            foreach (var m in request.Messages)
            {
                WriteMessage(w, m);
            }

            w.WriteEndArray();
            WriteTools(w, request);
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
            w.WriteNumber("max_tokens", request.MaxTokens);
            w.WriteNumber("temperature", request.Temperature);
            w.WriteNumber("top_p", request.TopP);
            if (request.Seed is { } seed)
            {
                w.WriteNumber("seed", seed);
            }

            if (request.Stop.Count > 0)
            {
                w.WriteStartArray("stop");
                foreach (var s in request.Stop)
                {
                    w.WriteStringValue(s);
                }

                w.WriteEndArray();
            }

            WriteResponseFormat(w, request.ResponseFormat);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteMessage(Utf8JsonWriter w, ChatMessage m)
    {
        w.WriteStartObject();
        w.WriteString("role", m.Role);
        if (m.Result is { } result)
        {
            w.WriteString("tool_call_id", result.CallId);
            w.WriteString("content", result.Result);
            w.WriteEndObject();
            return;
        }

        var calls = m.Calls.ToList();
        if (calls.Count > 0 && m.Content.Length == 0)
        {
            w.WriteNull("content");
        }
        else
        {
            w.WriteString("content", m.Content);
        }

        if (calls.Count > 0)
        {
            Tools.ToolCallJson.Write(w, calls);
        }

        w.WriteEndObject();
    }

    /// <summary>The request's tools and tool choice, forwarded as the client gave them.</summary>
    private static void WriteTools(Utf8JsonWriter w, ChatRequest request)
    {
        if (request.Tools.Count == 0)
        {
            return;
        }

        w.WriteStartArray("tools");
        foreach (var tool in request.Tools)
        {
            w.WriteStartObject();
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", tool.Name);
            if (tool.Description is { } description)
            {
                w.WriteString("description", description);
            }

            w.WritePropertyName("parameters");
            w.WriteRawValue(tool.Parameters);
            if (tool.Strict)
            {
                w.WriteBoolean("strict", true);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        switch (request.ToolMode)
        {
            case ToolMode.NamedMode named:
                w.WriteStartObject("tool_choice");
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", named.Name);
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            default:
                w.WriteString("tool_choice", request.ToolMode switch
                {
                    ToolMode.NoneMode => "none",
                    ToolMode.RequiredMode => "required",
                    _ => "auto",
                });
                break;
        }

        if (!request.ParallelToolCalls)
        {
            w.WriteBoolean("parallel_tool_calls", false);
        }
    }

    /// <summary>The body of an embeddings request for <paramref name="inputs"/>.</summary>
    public static byte[] EmbeddingsBody(string model, IReadOnlyList<string> inputs)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteStartArray("input");
            foreach (var input in inputs)
            {
                w.WriteStringValue(input);
            }

            w.WriteEndArray();
            w.WriteString("encoding_format", "float");
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads one streamed chunk; an <c>error</c> object in the stream becomes an <see cref="UpstreamException"/>.</summary>
    public static ChunkContent ParseChunk(string data)
    {
        using var doc = Parse(data, "a streamed chunk");
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            throw new UpstreamException("The upstream reported an error in the middle of its answer: " + ErrorText(error));
        }

        string? text = null;
        FinishReason? finish = null;
        var calls = new List<ToolCallDelta>();
        if (root.TryGetProperty("choices", out var choices))
        {
            Require(choices.ValueKind == JsonValueKind.Array, "'choices' of a chunk is not an array");
            foreach (var choice in choices.EnumerateArray())
            {
                Require(choice.ValueKind == JsonValueKind.Object, "a choice of a chunk is not an object");
                if (choice.TryGetProperty("index", out var index) && !(index.TryGetInt32(out var i) && i == 0))
                {
                    continue;
                }

                if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind != JsonValueKind.Null)
                {
                    Require(delta.ValueKind == JsonValueKind.Object, "'delta' of a chunk is not an object");
                    text = OptionalString(delta, "content", "delta.content");
                    if (delta.TryGetProperty("tool_calls", out var deltas) && deltas.ValueKind != JsonValueKind.Null)
                    {
                        ReadCallDeltas(deltas, calls);
                    }
                }

                finish = OptionalString(choice, "finish_reason", "finish_reason") switch
                {
                    null => null,
                    "stop" or "eos" => FinishReason.Stop,
                    "length" => FinishReason.Length,
                    "tool_calls" => FinishReason.ToolCalls,
                    var other => throw new UpstreamProtocolException(
                        $"The upstream ended its answer with finish_reason '{other}', which a brain cannot pass on (only 'stop', 'length' and 'tool_calls' are expected)."),
                };
            }
        }

        Usage? usage = null;
        if (root.TryGetProperty("usage", out var u) && u.ValueKind != JsonValueKind.Null)
        {
            Require(u.ValueKind == JsonValueKind.Object, "'usage' is not an object");
            usage = new Usage(Count(u, "prompt_tokens"), Count(u, "completion_tokens"));
        }

        return new ChunkContent(text, finish, usage, calls);
    }

    private static void ReadCallDeltas(JsonElement deltas, List<ToolCallDelta> calls)
    {
        Require(deltas.ValueKind == JsonValueKind.Array, "'delta.tool_calls' of a chunk is not an array");
        foreach (var call in deltas.EnumerateArray())
        {
            Require(call.ValueKind == JsonValueKind.Object, "a tool call of a chunk is not an object");
            var index = calls.Count;
            if (call.TryGetProperty("index", out var i))
            {
                Require(i.TryGetInt32(out index) && index is >= 0 and < 1024, "a tool call of a chunk has an 'index' that is not a small integer");
            }

            string? name = null, arguments = null;
            if (call.TryGetProperty("function", out var function) && function.ValueKind != JsonValueKind.Null)
            {
                Require(function.ValueKind == JsonValueKind.Object, "'function' of a tool call is not an object");
                name = OptionalString(function, "name", "tool_calls[].function.name");
                arguments = OptionalString(function, "arguments", "tool_calls[].function.arguments");
            }

            calls.Add(new ToolCallDelta(index, OptionalString(call, "id", "tool_calls[].id"), name, arguments));
        }
    }

    /// <summary>Reads an embeddings answer: exactly <paramref name="expected"/> vectors of one width, in input order, and its prompt token count if given.</summary>
    public static (float[][] Vectors, int? PromptTokens) ParseEmbeddings(byte[] body, int expected)
    {
        using var doc = Parse(body, "the embeddings answer");
        var root = doc.RootElement;
        Require(root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array, "the embeddings answer has no 'data' array");
        Require(data.GetArrayLength() == expected, $"the embeddings answer has {data.GetArrayLength()} vectors for {expected} inputs");
        var result = new float[expected][];
        var position = 0;
        foreach (var item in data.EnumerateArray())
        {
            Require(item.ValueKind == JsonValueKind.Object, "an embeddings item is not an object");
            var index = position++;
            if (item.TryGetProperty("index", out var i))
            {
                Require(i.TryGetInt32(out index), "an embeddings item has an 'index' that is not an integer");
            }

            Require(index >= 0 && index < expected && result[index] is null, "an embeddings item has a repeated or out-of-range 'index'");

            Require(item.TryGetProperty("embedding", out var vector) && vector.ValueKind == JsonValueKind.Array && vector.GetArrayLength() > 0,
                "an embeddings item has no 'embedding' array of numbers");
            var values = new float[vector.GetArrayLength()];
            var k = 0;
            foreach (var v in vector.EnumerateArray())
            {
                Require(v.ValueKind == JsonValueKind.Number && v.TryGetSingle(out values[k]) && float.IsFinite(values[k]), "an embedding holds something other than finite numbers");
                k++;
            }

            result[index] = values;
        }

        Require(result.All(r => r.Length == result[0].Length), "the embeddings differ in length");
        int? promptTokens = null;
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            promptTokens = Count(usage, "prompt_tokens");
        }

        return (result, promptTokens);
    }

    /// <summary>The error text in a non-2xx body: OpenAI's <c>error.message</c>, Ollama's <c>error</c>, FastAPI's <c>detail</c>, or the body itself.</summary>
    public static string ErrorMessage(string body, string fallback)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                foreach (var name in new[] { "error", "detail", "message" })
                {
                    if (root.TryGetProperty(name, out var value))
                    {
                        return ErrorText(value);
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the raw text is the message.
        }

        var text = body.Trim();
        return text.Length == 0 ? fallback : text.Length <= 500 ? text : text[..500] + "…";
    }

    private static string ErrorText(JsonElement error) => error.ValueKind switch
    {
        JsonValueKind.String => error.GetString()!,
        JsonValueKind.Object when error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String => m.GetString()!,
        _ => error.GetRawText(),
    };

    private static void WriteResponseFormat(Utf8JsonWriter w, ResponseFormat format)
    {
        switch (format)
        {
            case ResponseFormat.JsonObjectFormat:
                w.WriteStartObject("response_format");
                w.WriteString("type", "json_object");
                w.WriteEndObject();
                break;
            case ResponseFormat.JsonSchemaFormat s:
                try
                {
                    using var schema = JsonDocument.Parse(s.Schema);
                    w.WriteStartObject("response_format");
                    w.WriteString("type", "json_schema");
                    w.WriteStartObject("json_schema");
                    w.WriteString("name", "answer");
                    w.WriteBoolean("strict", true);
                    w.WritePropertyName("schema");
                    schema.WriteTo(w);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                catch (JsonException e)
                {
                    throw new ArgumentException("The response format's JSON schema is not valid JSON: " + e.Message, nameof(format), e);
                }

                break;
        }
    }

    private static JsonDocument Parse(string data, string what) => Parse(System.Text.Encoding.UTF8.GetBytes(data), what);

    private static JsonDocument Parse(byte[] data, string what)
    {
        try
        {
            var doc = JsonDocument.Parse(data);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new UpstreamProtocolException($"The upstream sent {what} that is not a JSON object.");
            }

            return doc;
        }
        catch (JsonException e)
        {
            throw new UpstreamProtocolException($"The upstream sent {what} that is not JSON: {e.Message}", e);
        }
    }

    private static string? OptionalString(JsonElement parent, string name, string what)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        Require(value.ValueKind == JsonValueKind.String, $"'{what}' is not a string");
        return value.GetString();
    }

    private static int Count(JsonElement usage, string name)
    {
        Require(usage.TryGetProperty(name, out var value) && value.TryGetInt32(out var count) && count >= 0,
            $"'usage.{name}' is missing or not a non-negative integer");
        return value.GetInt32();
    }

    private static void Require(bool ok, string problem)
    {
        if (!ok)
        {
            throw new UpstreamProtocolException(string.Create(CultureInfo.InvariantCulture, $"The upstream's answer is malformed: {problem}."));
        }
    }
}
