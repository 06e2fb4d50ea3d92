using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Http;
using Sios.Server.Inference;

namespace Sios.Server.Doors.Ollama;

/// <summary>
/// Ollama's answers of <c>/api/chat</c> and <c>/api/generate</c>, written compactly as the exact bytes that are sent
/// and committed to. A whole answer is one object (its receipt in the headers). A stream is NDJSON, one object a line,
/// and its receipt rides in the last line: the final <c>done: true</c> object carries a <c>sios</c> member, is
/// written after the seal, and is the one line the response commitment does not cover. A receipt line of its own
/// after <c>done</c> would be lost or break clients: ollama-js stops reading at the <c>done</c> line, and Python's
/// client hands every line to its caller as a piece of the answer.
/// </summary>
internal sealed class OllamaResponses : IAnswerWriter
{
    /// <summary>The media type of Ollama's streams.</summary>
    public const string NdJson = "application/x-ndjson";

    private readonly bool _chat;
    private readonly AnswerContext _answer;
    private readonly string _model;
    private readonly long _origin = Stopwatch.GetTimestamp();
    private PendingCall? _pending;
    private FinishReason _finish;
    private Usage _usage = new(0, 0);
    private TimeSpan _total;

    /// <summary>The writer of one chat (<paramref name="chat"/>) or generate answer.</summary>
    public OllamaResponses(bool chat, AnswerContext answer)
    {
        _chat = chat;
        _answer = answer;
        _model = answer.Request is OllamaRequest { Asked: var asked } ? asked : answer.Model;
    }

    /// <inheritdoc/>
    public string StreamType => NdJson;

    /// <summary>An RFC 3339 UTC time with as many fractional digits as it has, as Go writes Ollama's times.</summary>
    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>An <c>/api/embed</c> answer.</summary>
    public static byte[] Embeddings(string model, EmbeddingResult result) => DoorJson.Object(json =>
    {
        json.WriteString("model", model);
        json.WriteStartArray("embeddings");
        foreach (var vector in result.Vectors)
        {
            json.WriteStartArray();
            foreach (var value in vector)
            {
                json.WriteNumberValue(value);
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
        if (result.PromptTokens is { } tokens)
        {
            json.WriteNumber("prompt_eval_count", tokens);
        }
    });

    /// <inheritdoc/>
    public byte[] Whole(string text, FinishReason finish, Usage usage, IReadOnlyList<FunctionCallContent> calls) => DoorJson.Object(json =>
    {
        Head(json);
        Body(json, text, Readable(calls.Select((call, index) => (call, index))));
        Done(json, finish, usage, Stopwatch.GetElapsedTime(_answer.Admitted));
    });

    /// <inheritdoc/>
    public IEnumerable<byte[]> Start(Usage? usage) => [];

    /// <inheritdoc/>
    public IEnumerable<byte[]> Text(string text) => [.. Flush(), Chunk(text, [])];

    /// <summary>
    /// Ollama streams a call whole, once it is complete: a call's pieces are gathered, and it is sent when the next
    /// call begins or the answer ends (the pipeline names a call it has streamed piece by piece only for the seal).
    /// </summary>
    public IEnumerable<byte[]> CallDelta(FunctionCallDelta delta)
    {
        if (delta.Name is null)
        {
            _pending?.Arguments.Append(delta.Arguments);
            return [];
        }

        var flushed = Flush();
        _pending = new PendingCall(delta.Index, delta.CallId ?? "", delta.Name, new StringBuilder(delta.Arguments));
        return flushed;
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Call(FunctionCallContent call, int index) => [.. Flush(), .. Calls([(call, index)])];

    /// <summary>Sends the last call, if one is pending, and keeps the finish for the final line, which is the receipt's.</summary>
    public IEnumerable<byte[]> Finish(FinishReason finish, Usage usage)
    {
        _finish = finish;
        _usage = usage;
        _total = Stopwatch.GetElapsedTime(_answer.Admitted);
        return Flush();
    }

    /// <inheritdoc/>
    public byte[] Failure(ApiException error) => Line(error.ToJson(ErrorShape.Ollama));

    /// <summary>The final <c>done: true</c> line with the receipt as its <c>sios</c> member; for a stream cut short, only the receipt.</summary>
    public byte[] Receipt(StreamReceipt receipt, bool answered) => Line(DoorJson.Object(json =>
    {
        if (answered)
        {
            Head(json);
            Body(json, "", []);
            Done(json, _finish, _usage, _total);
        }

        json.WritePropertyName("sios");
        receipt.Write(json);
    }));

    private static byte[] Line(byte[] json) => [.. json, (byte)'\n'];

    /// <summary>
    /// The calls an Ollama client can read, with their arguments as objects. A call cut off by the length limit has
    /// arguments that are not yet a JSON object, which Ollama's answers cannot carry: it is left out, and the
    /// <c>done_reason</c> of <c>length</c> tells the client the answer was cut.
    /// </summary>
    private static List<(FunctionCallContent Call, int Index, JsonElement Arguments)> Readable(IEnumerable<(FunctionCallContent Call, int Index)> calls)
    {
        var readable = new List<(FunctionCallContent, int, JsonElement)>();
        foreach (var (call, index) in calls)
        {
            try
            {
                using var arguments = JsonDocument.Parse(call.Arguments);
                if (arguments.RootElement.ValueKind == JsonValueKind.Object)
                {
                    readable.Add((call, index, arguments.RootElement.Clone()));
                }
            }
            catch (JsonException)
            {
                // Cut off mid-arguments: see above.
            }
        }

        return readable;
    }

    private static void Done(Utf8JsonWriter json, FinishReason finish, Usage usage, TimeSpan total)
    {
        // A call is a "stop" in Ollama's words. Only what is measured is reported: the time since the request was
        // admitted, and the token counts; the engine does not time loading, the prompt and generation apart, and
        // Ollama itself leaves out a duration it has not measured.
        json.WriteBoolean("done", true);
        json.WriteString("done_reason", finish == FinishReason.Length ? "length" : "stop");
        json.WriteNumber("total_duration", total.Ticks * (1_000_000_000 / TimeSpan.TicksPerSecond));
        json.WriteNumber("prompt_eval_count", usage.PromptTokens);
        json.WriteNumber("eval_count", usage.CompletionTokens);
    }

    /// <summary>The pending call's line, if one is pending (eagerly: the caller may begin the next call at once).</summary>
    private byte[][] Flush()
    {
        if (_pending is not { } call)
        {
            return [];
        }

        _pending = null;
        return Calls([(new FunctionCallContent(call.Id, call.Name, call.Arguments.ToString()), call.Index)]);
    }

    private byte[][] Calls(IEnumerable<(FunctionCallContent Call, int Index)> calls) =>
        Readable(calls) is { Count: > 0 } readable ? [Chunk("", readable)] : [];

    private byte[] Chunk(string text, List<(FunctionCallContent Call, int Index, JsonElement Arguments)> calls) => Line(DoorJson.Object(json =>
    {
        Head(json);
        Body(json, text, calls);
        json.WriteBoolean("done", false);
    }));

    private void Head(Utf8JsonWriter json)
    {
        json.WriteString("model", _model);
        json.WriteString("created_at", Timestamp(_answer.Created + Stopwatch.GetElapsedTime(_origin)));
    }

    /// <summary>A chat's <c>message</c> (with its calls), or a generate answer's <c>response</c>.</summary>
    private void Body(Utf8JsonWriter json, string text, List<(FunctionCallContent Call, int Index, JsonElement Arguments)> calls)
    {
        if (!_chat)
        {
            json.WriteString("response", text);
            return;
        }

        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        json.WriteString("content", text);
        if (calls.Count > 0)
        {
            json.WriteStartArray("tool_calls");
            foreach (var (call, index, arguments) in calls)
            {
                json.WriteStartObject();
                json.WriteString("id", call.CallId);
                json.WriteStartObject("function");
                json.WriteNumber("index", index);
                json.WriteString("name", call.Name);
                json.WritePropertyName("arguments");
                arguments.WriteTo(json);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    /// <summary>A call being streamed piece by piece.</summary>
    private sealed record PendingCall(int Index, string Id, string Name, StringBuilder Arguments);
}
