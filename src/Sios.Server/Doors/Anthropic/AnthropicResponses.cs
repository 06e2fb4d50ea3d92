using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Doors;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors.Anthropic;

/// <summary>
/// Anthropic Messages answers as the exact bytes sent and committed to: the whole <c>message</c> object, or its
/// stream of named events (<c>message_start</c>, <c>content_block_start</c> / <c>_delta</c> / <c>_stop</c> per text or
/// <c>tool_use</c> block, <c>message_delta</c>, <c>message_stop</c>), followed by the <c>: sios</c> receipt comment,
/// which Anthropic's SDKs skip like any SSE comment.
/// </summary>
internal sealed class AnthropicResponses(string id, string model) : IAnswerWriter
{
    private Block _open = Block.None;
    private int _index = -1;

    private enum Block
    {
        None,
        Text,
        ToolUse,
    }

    /// <inheritdoc/>
    public string StreamType => "text/event-stream; charset=utf-8";

    private string MessageId => "msg_" + id;

    /// <inheritdoc/>
    public byte[] Whole(string text, FinishReason finish, Usage usage, IReadOnlyList<FunctionCallContent> calls) => Json(json =>
    {
        Message(json);
        json.WriteStartArray("content");
        if (text.Length > 0)
        {
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteString("text", text);
            json.WriteEndObject();
        }

        foreach (var call in calls)
        {
            ToolUse(json, call.CallId, call.Name, call.Arguments);
        }

        json.WriteEndArray();
        json.WriteString("stop_reason", StopReason(finish));
        json.WriteNull("stop_sequence");
        WriteUsage(json, usage.PromptTokens, usage.CompletionTokens);
    });

    /// <inheritdoc/>
    public IEnumerable<byte[]> Start(Usage? usage)
    {
        yield return Event("message_start", json =>
        {
            json.WriteString("type", "message_start");
            json.WriteStartObject("message");
            Message(json);
            json.WriteStartArray("content");
            json.WriteEndArray();
            json.WriteNull("stop_reason");
            json.WriteNull("stop_sequence");
            WriteUsage(json, usage?.PromptTokens ?? 0, 0);
            json.WriteEndObject();
        });
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Text(string text)
    {
        if (_open != Block.Text)
        {
            foreach (var e in Close())
            {
                yield return e;
            }

            yield return BlockStart(Block.Text, json =>
            {
                json.WriteString("type", "text");
                json.WriteString("text", "");
            });
        }

        yield return Delta("text_delta", "text", text);
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> CallDelta(FunctionCallDelta delta)
    {
        if (delta.CallId is { } callId)
        {
            foreach (var e in Close())
            {
                yield return e;
            }

            yield return BlockStart(Block.ToolUse, json => ToolUseHead(json, callId, delta.Name!));
        }

        if (delta.Arguments.Length > 0)
        {
            yield return Delta("input_json_delta", "partial_json", delta.Arguments);
        }
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Call(FunctionCallContent call, int index) =>
        CallDelta(new FunctionCallDelta(index, call.CallId, call.Name, call.Arguments));

    /// <inheritdoc/>
    public IEnumerable<byte[]> Finish(FinishReason finish, Usage usage)
    {
        foreach (var e in Close())
        {
            yield return e;
        }

        yield return Event("message_delta", json =>
        {
            json.WriteString("type", "message_delta");
            json.WriteStartObject("delta");
            json.WriteString("stop_reason", StopReason(finish));
            json.WriteNull("stop_sequence");
            json.WriteEndObject();
            WriteUsage(json, usage.PromptTokens, usage.CompletionTokens);
        });
        yield return Event("message_stop", json => json.WriteString("type", "message_stop"));
    }

    /// <inheritdoc/>
    public byte[] Failure(ApiException error) => Named("error", error.ToJson(ErrorShape.Anthropic));

    /// <inheritdoc/>
    public byte[] Receipt(StreamReceipt receipt, bool answered) => InferenceSealer.ReceiptComment(receipt);

    /// <summary>The model list of <c>GET /v1/models</c> in Anthropic's shape (one page holding every brain).</summary>
    public static byte[] Models(IReadOnlyList<(string Name, long Created)> brains) => Json(json =>
    {
        json.WriteStartArray("data");
        foreach (var (name, created) in brains)
        {
            json.WriteStartObject();
            json.WriteString("type", "model");
            json.WriteString("id", name);
            json.WriteString("display_name", name);
            json.WriteString("created_at", DateTimeOffset.FromUnixTimeSeconds(created).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteBoolean("has_more", false);
        WriteId(json, "first_id", brains.Count > 0 ? brains[0].Name : null);
        WriteId(json, "last_id", brains.Count > 0 ? brains[^1].Name : null);
    });

    private static void WriteId(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>Anthropic's <c>stop_reason</c>: a call cut off by the limit is <c>max_tokens</c>, as the limit is what ended it.</summary>
    private static string StopReason(FinishReason finish) => finish switch
    {
        FinishReason.Length => "max_tokens",
        FinishReason.ToolCalls => "tool_use",
        _ => "end_turn",
    };

    /// <summary>A <c>tool_use</c> block of a whole answer: its input the call's arguments, or <c>{}</c> when the limit cut them off.</summary>
    private static void ToolUse(Utf8JsonWriter json, string callId, string name, string arguments)
    {
        json.WriteStartObject();
        json.WriteString("type", "tool_use");
        json.WriteString("id", callId);
        json.WriteString("name", name);
        json.WritePropertyName("input");
        try
        {
            using var input = JsonDocument.Parse(arguments);
            input.RootElement.WriteTo(json);
        }
        catch (JsonException)
        {
            json.WriteStartObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void ToolUseHead(Utf8JsonWriter json, string callId, string name)
    {
        json.WriteString("type", "tool_use");
        json.WriteString("id", callId);
        json.WriteString("name", name);
        json.WriteStartObject("input");
        json.WriteEndObject();
    }

    private void Message(Utf8JsonWriter json)
    {
        json.WriteString("id", MessageId);
        json.WriteString("type", "message");
        json.WriteString("role", "assistant");
        json.WriteString("model", model);
    }

    private static void WriteUsage(Utf8JsonWriter json, int input, int output)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", input);
        json.WriteNumber("output_tokens", output);
        json.WriteEndObject();
    }

    private IEnumerable<byte[]> Close()
    {
        if (_open == Block.None)
        {
            yield break;
        }

        var index = _index;
        _open = Block.None;
        yield return Event("content_block_stop", json =>
        {
            json.WriteString("type", "content_block_stop");
            json.WriteNumber("index", index);
        });
    }

    private byte[] BlockStart(Block block, Action<Utf8JsonWriter> content)
    {
        _open = block;
        _index++;
        return Event("content_block_start", json =>
        {
            json.WriteString("type", "content_block_start");
            json.WriteNumber("index", _index);
            json.WriteStartObject("content_block");
            content(json);
            json.WriteEndObject();
        });
    }

    private byte[] Delta(string type, string field, string value) => Event("content_block_delta", json =>
    {
        json.WriteString("type", "content_block_delta");
        json.WriteNumber("index", _index);
        json.WriteStartObject("delta");
        json.WriteString("type", type);
        json.WriteString(field, value);
        json.WriteEndObject();
    });

    private static byte[] Event(string name, Action<Utf8JsonWriter> body) => Named(name, Json(body));

    private static byte[] Named(string name, byte[] json) => InferenceSealer.NamedEvent(name, json);

    private static byte[] Json(Action<Utf8JsonWriter> body) => DoorJson.Object(body);
}
