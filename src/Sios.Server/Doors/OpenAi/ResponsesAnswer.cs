using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Doors;
using Sios.Server.Http;
using Sios.Server.Inference;
using Sios.Server.Vault;

namespace Sios.Server.Doors.OpenAi;

/// <summary>
/// A Responses API answer as the exact bytes sent and committed to: the whole <c>response</c> object, or its stream of
/// typed events (<c>response.created</c>, <c>response.output_item.added</c>, <c>response.output_text.delta</c>,
/// <c>response.function_call_arguments.delta</c>, … <c>response.completed</c>), each with its
/// <c>sequence_number</c>, then the <c>: sios</c> receipt comment. Item ids name the answer and the item's place
/// (<c>msg_&lt;entry&gt;_0</c>, <c>fc_&lt;entry&gt;_1</c>), so an <c>item_reference</c> finds its stored response.
/// </summary>
internal sealed class ResponsesAnswer(AnswerContext answer, StoredResponses? store) : IAnswerWriter
{
    private readonly ResponsesRequest _request = (ResponsesRequest)answer.Request;
    private readonly List<Action<Utf8JsonWriter>> _done = [];
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _arguments = new();
    private (bool Message, string Id, string? CallId, string? Name)? _open;
    private int _sequence;

    /// <inheritdoc/>
    public string StreamType => "text/event-stream; charset=utf-8";

    private string ResponseId => "resp_" + answer.Id;

    private string ItemId(bool message) => (message ? "msg_" : "fc_") + answer.Id + "_" + _done.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public byte[] Whole(string text, FinishReason finish, Usage usage, IReadOnlyList<FunctionCallContent> calls)
    {
        if (text.Length > 0 || calls.Count == 0)
        {
            var id = ItemId(message: true);
            _done.Add(json => MessageItem(json, id, "completed", text));
        }

        foreach (var call in calls)
        {
            var id = ItemId(message: false);
            _done.Add(json => CallItem(json, id, "completed", call.CallId, call.Name, call.Arguments));
        }

        return DoorJson.Object(json => Response(json, finish, usage));
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Start(Usage? usage)
    {
        yield return Event("response.created", json => Nested(json, "response", r => Response(r, null, null)));
        yield return Event("response.in_progress", json => Nested(json, "response", r => Response(r, null, null)));
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Text(string text)
    {
        var events = new List<byte[]>();
        if (_open is not { Message: true })
        {
            events.AddRange(Close());
            var id = ItemId(message: true);
            _open = (true, id, null, null);
            events.Add(Event("response.output_item.added", json => Item(json, j => MessageItem(j, id, "in_progress", null))));
            events.Add(Event("response.content_part.added", json => Part(json, id, p => TextPart(p, ""))));
        }

        _text.Append(text);
        events.Add(Event("response.output_text.delta", json =>
        {
            Place(json, _open!.Value.Id);
            json.WriteNumber("content_index", 0);
            json.WriteString("delta", text);
            json.WriteStartArray("logprobs");
            json.WriteEndArray();
        }));
        return events;
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> CallDelta(FunctionCallDelta delta)
    {
        var events = new List<byte[]>();
        if (delta.CallId is { } callId)
        {
            events.AddRange(Close());
            var id = ItemId(message: false);
            _open = (false, id, callId, delta.Name);
            events.Add(Event("response.output_item.added", json => Item(json, j => CallItem(j, id, "in_progress", callId, delta.Name!, ""))));
        }

        if (delta.Arguments.Length > 0)
        {
            _arguments.Append(delta.Arguments);
            events.Add(Event("response.function_call_arguments.delta", json =>
            {
                Place(json, _open!.Value.Id);
                json.WriteString("delta", delta.Arguments);
            }));
        }

        return events;
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Call(FunctionCallContent call, int index) => CallDelta(new FunctionCallDelta(index, call.CallId, call.Name, call.Arguments));

    /// <inheritdoc/>
    public IEnumerable<byte[]> Finish(FinishReason finish, Usage usage)
    {
        var events = Close();
        if (_done.Count == 0)
        {
            // An answer with nothing in it is still one (empty) message, as a whole answer is.
            events.AddRange(Text(""));
            events.AddRange(Close());
        }

        var status = Status(finish);
        events.Add(Event("response." + (status == "completed" ? "completed" : "incomplete"), json => Nested(json, "response", r => Response(r, finish, usage))));
        return events;
    }

    /// <inheritdoc/>
    public byte[] Failure(ApiException error) => Named("error", DoorJson.Object(json =>
    {
        json.WriteString("type", "error");
        json.WriteNumber("sequence_number", _sequence++);
        json.WriteString("code", error.Code ?? error.Type);
        json.WriteString("message", error.Message);
        json.WriteString("param", error.Param);
    }));

    /// <inheritdoc/>
    public byte[] Receipt(StreamReceipt receipt, bool answered) => InferenceSealer.ReceiptComment(receipt);

    /// <summary>A kept answer the client asked to store becomes its stored response.</summary>
    public void Kept(Access.ApiPrincipal caller)
    {
        if (_request.Store)
        {
            store?.Claim(answer.Id, caller.KeyId);
        }
    }

    private static string Status(FinishReason finish) => finish == FinishReason.Length ? "incomplete" : "completed";

    /// <summary>The events that finish the open item, which then takes its place in the answer's output.</summary>
    private List<byte[]> Close()
    {
        if (_open is not { } open)
        {
            return [];
        }

        _open = null;
        var events = new List<byte[]>();
        Action<Utf8JsonWriter> item;
        if (open.Message)
        {
            var text = _text.ToString();
            _text.Clear();
            events.Add(Event("response.output_text.done", json =>
            {
                Place(json, open.Id);
                json.WriteNumber("content_index", 0);
                json.WriteString("text", text);
                json.WriteStartArray("logprobs");
                json.WriteEndArray();
            }));
            events.Add(Event("response.content_part.done", json => Part(json, open.Id, p => TextPart(p, text))));
            item = json => MessageItem(json, open.Id, "completed", text);
        }
        else
        {
            var arguments = _arguments.ToString();
            _arguments.Clear();
            events.Add(Event("response.function_call_arguments.done", json =>
            {
                Place(json, open.Id);
                json.WriteString("name", open.Name);
                json.WriteString("arguments", arguments);
            }));
            item = json => CallItem(json, open.Id, "completed", open.CallId!, open.Name!, arguments);
        }

        events.Add(Event("response.output_item.done", json => Item(json, item)));
        _done.Add(item);
        return events;
    }

    /// <summary>The response object; <paramref name="finish"/> null while it is in progress.</summary>
    private void Response(Utf8JsonWriter json, FinishReason? finish, Usage? usage)
    {
        json.WriteString("id", ResponseId);
        json.WriteString("object", "response");
        json.WriteNumber("created_at", answer.Created.ToUnixTimeSeconds());
        json.WriteString("status", finish is { } f ? Status(f) : "in_progress");
        json.WriteBoolean("background", false);
        json.WriteNull("error");
        if (finish == FinishReason.Length)
        {
            json.WriteStartObject("incomplete_details");
            json.WriteString("reason", "max_output_tokens");
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("incomplete_details");
        }

        json.WriteString("instructions", _request.Instructions);
        Nullable(json, "max_output_tokens", _request.MaxTokens);
        json.WriteString("model", answer.Model);
        json.WriteStartArray("output");
        if (finish is not null)
        {
            foreach (var item in _done)
            {
                json.WriteStartObject();
                item(json);
                json.WriteEndObject();
            }
        }

        json.WriteEndArray();
        json.WriteBoolean("parallel_tool_calls", _request.Tools.Parallel);
        json.WriteString("previous_response_id", _request.PreviousResponseId);
        json.WriteStartObject("reasoning");
        json.WriteNull("effort");
        json.WriteNull("summary");
        json.WriteEndObject();
        json.WriteBoolean("store", _request.Store);
        Nullable(json, "temperature", _request.Temperature);
        Raw(json, "text", _request.TextJson, """{"format":{"type":"text"}}""");
        Raw(json, "tool_choice", _request.ToolChoiceJson, "\"auto\"");
        Raw(json, "tools", _request.ToolsJson, "[]");
        Nullable(json, "top_p", _request.TopP);
        json.WriteString("truncation", "disabled");
        if (usage is null)
        {
            json.WriteNull("usage");
        }
        else
        {
            json.WriteStartObject("usage");
            json.WriteNumber("input_tokens", usage.PromptTokens);
            json.WriteStartObject("input_tokens_details");
            json.WriteNumber("cached_tokens", usage.CachedTokens);
            json.WriteEndObject();
            json.WriteNumber("output_tokens", usage.CompletionTokens);
            json.WriteStartObject("output_tokens_details");
            json.WriteNumber("reasoning_tokens", 0);
            json.WriteEndObject();
            json.WriteNumber("total_tokens", usage.TotalTokens);
            json.WriteEndObject();
        }

        json.WriteNull("user");
        Raw(json, "metadata", _request.MetadataJson, "{}");
    }

    private static void MessageItem(Utf8JsonWriter json, string id, string status, string? text)
    {
        json.WriteString("id", id);
        json.WriteString("type", "message");
        json.WriteString("status", status);
        json.WriteString("role", "assistant");
        json.WriteStartArray("content");
        if (text is not null)
        {
            json.WriteStartObject();
            TextPart(json, text);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void CallItem(Utf8JsonWriter json, string id, string status, string callId, string name, string arguments)
    {
        json.WriteString("id", id);
        json.WriteString("type", "function_call");
        json.WriteString("status", status);
        json.WriteString("arguments", arguments);
        json.WriteString("call_id", callId);
        json.WriteString("name", name);
    }

    private static void TextPart(Utf8JsonWriter json, string text)
    {
        json.WriteString("type", "output_text");
        json.WriteStartArray("annotations");
        json.WriteEndArray();
        json.WriteStartArray("logprobs");
        json.WriteEndArray();
        json.WriteString("text", text);
    }

    private void Item(Utf8JsonWriter json, Action<Utf8JsonWriter> item)
    {
        json.WriteNumber("output_index", _done.Count);
        Nested(json, "item", item);
    }

    private void Part(Utf8JsonWriter json, string id, Action<Utf8JsonWriter> part)
    {
        Place(json, id);
        json.WriteNumber("content_index", 0);
        Nested(json, "part", part);
    }

    private void Place(Utf8JsonWriter json, string id)
    {
        json.WriteString("item_id", id);
        json.WriteNumber("output_index", _done.Count);
    }

    private static void Nested(Utf8JsonWriter json, string name, Action<Utf8JsonWriter> body)
    {
        json.WriteStartObject(name);
        body(json);
        json.WriteEndObject();
    }

    private static void Raw(Utf8JsonWriter json, string name, string? value, string fallback)
    {
        json.WritePropertyName(name);
        json.WriteRawValue(value ?? fallback, skipInputValidation: true);
    }

    private static void Nullable(Utf8JsonWriter json, string name, float? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void Nullable(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>An event of the stream: <c>event: TYPE</c> and its data, which starts with its type and sequence number.</summary>
    private byte[] Event(string type, Action<Utf8JsonWriter> body) => Named(type, DoorJson.Object(json =>
    {
        json.WriteString("type", type);
        json.WriteNumber("sequence_number", _sequence++);
        body(json);
    }));

    private static byte[] Named(string name, byte[] json) => InferenceSealer.NamedEvent(name, json);
}
