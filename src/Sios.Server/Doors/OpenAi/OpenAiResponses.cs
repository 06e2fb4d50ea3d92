using System.Runtime.InteropServices;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors.OpenAi;

/// <summary>
/// OpenAI response and stream-chunk bodies of chat and text completions, written compactly as the exact bytes that are
/// sent and committed to; a stream is server-sent events ending in the <c>: sios</c> receipt comment and
/// <c>data: [DONE]</c>.
/// </summary>
internal sealed class OpenAiResponses(bool chat, string id, string model, long created, bool includeUsage = false) : IAnswerWriter
{
    private readonly bool _chat = chat;
    private bool _first = chat;

    private bool Chat => _chat;

    /// <inheritdoc/>
    public string StreamType => "text/event-stream; charset=utf-8";

    /// <inheritdoc/>
    public byte[] Whole(string text, FinishReason finish, Usage usage, IReadOnlyList<FunctionCallContent> calls) => Answer(text, finish, usage, calls);

    /// <inheritdoc/>
    public IEnumerable<byte[]> Start(Usage? usage)
    {
        if (Chat)
        {
            // The first chat chunk carries the role, as OpenAI's does.
            _first = false;
            yield return Event(Chunk("", first: true, null, includeUsage));
        }
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Text(string text)
    {
        yield return Event(Chunk(text, _first, null, includeUsage));
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> CallDelta(FunctionCallDelta delta)
    {
        yield return Event(CallChunk(delta, includeUsage));
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Call(FunctionCallContent call, int index) => CallChunks(call, index, includeUsage).Select(Event);

    /// <inheritdoc/>
    public IEnumerable<byte[]> Finish(FinishReason finish, Usage usage)
    {
        yield return Event(Chunk("", _first, finish, includeUsage));
        if (includeUsage)
        {
            yield return Event(UsageChunk(usage));
        }
    }

    /// <inheritdoc/>
    public byte[] Failure(ApiException error) => Event(error.ToJson());

    /// <inheritdoc/>
    public byte[] Receipt(StreamReceipt receipt, bool answered) =>
        answered ? [.. InferenceSealer.ReceiptComment(receipt), .. InferenceSealer.Done] : InferenceSealer.ReceiptComment(receipt);

    private static byte[] Event(byte[] json) => InferenceSealer.DataEvent(json);

    /// <summary>The whole non-streamed answer: its text (null content when there is none beside calls) and its tool calls.</summary>
    public byte[] Answer(string text, FinishReason finish, Usage usage, IReadOnlyList<FunctionCallContent>? calls = null) => Write(json =>
    {
        Header(json, Chat ? "chat.completion" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (Chat)
        {
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            if (calls is { Count: > 0 } && text.Length == 0)
            {
                json.WriteNull("content");
            }
            else
            {
                json.WriteString("content", text);
            }

            json.WriteNull("refusal");
            if (calls is { Count: > 0 })
            {
                Brains.Tools.ToolCallJson.Write(json, calls);
            }

            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text);
        }

        json.WriteNull("logprobs");
        json.WriteString("finish_reason", FinishName(finish));
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, usage);
    });

    /// <summary>A stream chunk with a text delta (the first chat chunk also carries the role), or the final one with the finish reason.</summary>
    public byte[] Chunk(string text, bool first, FinishReason? finish, bool usageField) => Write(json =>
    {
        Header(json, Chat ? "chat.completion.chunk" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (Chat)
        {
            json.WriteStartObject("delta");
            if (first)
            {
                json.WriteString("role", "assistant");
            }

            if (finish is null || text.Length > 0)
            {
                json.WriteString("content", text);
            }

            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text);
        }

        json.WriteNull("logprobs");
        if (finish is { } f)
        {
            json.WriteString("finish_reason", FinishName(f));
        }
        else
        {
            json.WriteNull("finish_reason");
        }

        json.WriteEndObject();
        json.WriteEndArray();
        if (usageField)
        {
            json.WriteNull("usage");
        }
    });

    /// <summary>
    /// The chunks of one streamed tool call that was not streamed piece by piece (an upstream's, or one read only once
    /// the answer ended), as OpenAI streams them: the call's index, id, type and name with empty arguments first, then
    /// the arguments.
    /// </summary>
    public IEnumerable<byte[]> CallChunks(FunctionCallContent call, int index, bool usageField)
    {
        yield return CallChunk(new FunctionCallDelta(index, call.CallId, call.Name, string.Empty), usageField);
        yield return CallChunk(new FunctionCallDelta(index, null, null, call.Arguments), usageField);
    }

    /// <summary>
    /// The chunk of a piece of a tool call: on its head the call's index, id, type and name with empty arguments, after
    /// it the index and a fragment of the arguments.
    /// </summary>
    public byte[] CallChunk(FunctionCallDelta delta, bool usageField) => Write(json =>
    {
        Header(json, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        json.WriteStartArray("tool_calls");
        json.WriteStartObject();
        json.WriteNumber("index", delta.Index);
        if (delta.CallId is { } id)
        {
            json.WriteString("id", id);
            json.WriteString("type", "function");
        }

        json.WriteStartObject("function");
        if (delta.Name is { } name)
        {
            json.WriteString("name", name);
        }

        json.WriteString("arguments", delta.Arguments);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteNull("finish_reason");
        json.WriteEndObject();
        json.WriteEndArray();
        if (usageField)
        {
            json.WriteNull("usage");
        }
    });

    /// <summary>The usage chunk of <c>stream_options.include_usage</c>: no choices, the totals.</summary>
    public byte[] UsageChunk(Usage usage) => Write(json =>
    {
        Header(json, Chat ? "chat.completion.chunk" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteEndArray();
        WriteUsage(json, usage);
    });

    /// <summary>An embeddings answer.</summary>
    public static byte[] Embeddings(string model, EmbeddingResult result, bool base64) => Write(json =>
    {
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        for (var i = 0; i < result.Vectors.Length; i++)
        {
            json.WriteStartObject();
            json.WriteString("object", "embedding");
            json.WriteNumber("index", i);
            if (base64)
            {
                // OpenAI's base64 form: the float32 values, little-endian, back to back.
                var bytes = MemoryMarshal.AsBytes(result.Vectors[i].AsSpan());
                json.WriteBase64String("embedding", BitConverter.IsLittleEndian ? bytes : LittleEndian(result.Vectors[i]));
            }
            else
            {
                json.WriteStartArray("embedding");
                foreach (var value in result.Vectors[i])
                {
                    json.WriteNumberValue(value);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("model", model);
        if (result.PromptTokens is { } tokens)
        {
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", tokens);
            json.WriteNumber("total_tokens", tokens);
            json.WriteEndObject();
        }
    });

    /// <summary>The model list of <c>GET /v1/models</c>.</summary>
    public static byte[] Models(IEnumerable<(string Name, long Created)> brains) => Write(json =>
    {
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var (name, created) in brains)
        {
            json.WriteStartObject();
            json.WriteString("id", name);
            json.WriteString("object", "model");
            json.WriteNumber("created", created);
            json.WriteString("owned_by", "operator");
            json.WriteEndObject();
        }

        json.WriteEndArray();
    });

    public static string FinishName(FinishReason finish) => finish switch
    {
        FinishReason.Length => "length",
        FinishReason.ToolCalls => "tool_calls",
        _ => "stop",
    };

    private static byte[] LittleEndian(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return bytes;
    }

    private void Header(Utf8JsonWriter json, string type)
    {
        json.WriteString("id", (Chat ? "chatcmpl-" : "cmpl-") + id);
        json.WriteString("object", type);
        json.WriteNumber("created", created);
        json.WriteString("model", model);
    }

    private static void WriteUsage(Utf8JsonWriter json, Usage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.PromptTokens);
        json.WriteNumber("completion_tokens", usage.CompletionTokens);
        json.WriteNumber("total_tokens", usage.TotalTokens);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", usage.CachedTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static byte[] Write(Action<Utf8JsonWriter> body) => DoorJson.Object(body);
}
