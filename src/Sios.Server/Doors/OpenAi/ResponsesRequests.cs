using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Access;
using Sios.Server.Doors;
using Sios.Server.Inference;
using Sios.Server.Vault;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors.OpenAi;

/// <summary>A Responses API request: the door-neutral request, and what its answer echoes and whether it is stored.</summary>
internal sealed record ResponsesRequest : GenerationRequest
{
    public string? Instructions { get; init; }

    public string? PreviousResponseId { get; init; }

    /// <summary>Whether the answer becomes a stored response.</summary>
    public bool Store { get; init; }

    /// <summary>The request's own <c>tools</c>, <c>tool_choice</c>, <c>text</c> and <c>metadata</c> JSON, echoed in the answer.</summary>
    public string? ToolsJson { get; init; }

    public string? ToolChoiceJson { get; init; }

    public string? TextJson { get; init; }

    public string? MetadataJson { get; init; }
}

/// <summary>
/// Reads OpenAI Responses requests (<c>POST /v1/responses</c>): <c>input</c> as text or items (messages, function
/// calls, their outputs, references to stored items), <c>instructions</c>, function <c>tools</c>, <c>text.format</c>,
/// and <c>previous_response_id</c>, whose conversation is read back from the caller's own stored responses.
/// </summary>
internal sealed class ResponsesRequests(StoredResponses? store)
{
    /// <summary>How many stored responses a chain of <c>previous_response_id</c> may go back through.</summary>
    private const int MaxChain = 64;

    public ResponsesRequest Parse(JsonElement root, ApiPrincipal caller)
    {
        foreach (var (field, why) in (ReadOnlySpan<(string, string)>)[
            ("background", "background responses are not served; wait for the answer or stream it."),
            ("conversation", "conversations are not kept; chain answers with previous_response_id."),
            ("prompt", "stored prompt templates are not served; send input and instructions."),
            ("top_logprobs", "log-probabilities are not reported."),
            ("max_tool_calls", "the number of calls is bounded by parallel_tool_calls (at most 8 in one answer)."),
        ])
        {
            if (Optional(root, field) is { ValueKind: not JsonValueKind.Null and not JsonValueKind.False })
            {
                throw Invalid(field, $"'{field}': {why}");
            }
        }

        if (Optional(root, "reasoning") is { ValueKind: JsonValueKind.Object } reasoning && Optional(reasoning, "effort") is { ValueKind: not JsonValueKind.Null })
        {
            throw Invalid("reasoning", "'reasoning.effort': no brain here reasons before answering.");
        }

        if (Optional(root, "include") is { ValueKind: JsonValueKind.Array } include && include.GetArrayLength() > 0)
        {
            throw Invalid("include", "'include': no extra output (log-probabilities, reasoning, search results) is produced.");
        }

        var storing = store is { IsStoring: true };
        var stored = Optional(root, "store") is { ValueKind: JsonValueKind.True or JsonValueKind.False } s ? s.GetBoolean() : storing;
        if (stored && !storing)
        {
            throw Invalid("store", "'store': this server keeps no content (its vault retention is 0), so no response can be stored; send store: false.");
        }

        var previous = OptionalString(root, "previous_response_id");
        var turns = Conversation(root, caller, 0, new Dictionary<string, JsonElement>(StringComparer.Ordinal));
        if (OptionalString(root, "instructions") is { Length: > 0 } instructions)
        {
            turns.Insert(0, new ChatMessage("system", instructions));
        }

        if (turns.Count > DoorFields.MaxMessages)
        {
            throw Invalid("input", $"the conversation holds more than {DoorFields.MaxMessages} turns.");
        }

        if (ToolRequest.UnansweredResult(turns) is { } unanswered)
        {
            throw Invalid("input", $"a function_call_output answers the call '{turns[unanswered].Result!.CallId}', but no earlier function_call has that call_id.");
        }

        var text = Optional(root, "text");
        return new ResponsesRequest
        {
            Model = RequiredString(root, "model"),
            Messages = turns,
            MaxTokens = (int?)OptionalInteger(root, "max_output_tokens", 1, int.MaxValue),
            Temperature = OptionalNumber(root, "temperature", 0, 2),
            TopP = OptionalNumber(root, "top_p", double.Epsilon, 1),
            Stream = OptionalBool(root, "stream", false),
            Format = text is { ValueKind: JsonValueKind.Object } t && Optional(t, "format") is { } format ? ResponsesFormats.Read(format) : ResponseFormat.Text,
            Tools = ResponsesFormats.Tools(root),
            Instructions = OptionalString(root, "instructions"),
            PreviousResponseId = previous,
            Store = stored,
            ToolsJson = Optional(root, "tools")?.GetRawText(),
            ToolChoiceJson = Optional(root, "tool_choice")?.GetRawText(),
            TextJson = text?.GetRawText(),
            MetadataJson = Optional(root, "metadata") is { ValueKind: JsonValueKind.Object } metadata ? metadata.GetRawText() : null,
        };
    }

    /// <summary>
    /// The turns of a request without its instructions (which, as in OpenAI's API, are not carried to the next answer):
    /// the conversation of its previous response, then its own input.
    /// </summary>
    /// <param name="root">The request.</param>
    /// <param name="caller">Whose stored responses it may read.</param>
    /// <param name="depth">How many previous responses back this request is.</param>
    /// <param name="referenced">The outputs of stored responses already read for this request: a request of many
    /// item references to one response decrypts it once, not once per reference.</param>
    private List<ChatMessage> Conversation(JsonElement root, ApiPrincipal caller, int depth, Dictionary<string, JsonElement> referenced)
    {
        var turns = new List<ChatMessage>();
        if (OptionalString(root, "previous_response_id") is { } previous)
        {
            var (request, output) = Stored(previous, caller, "previous_response_id");
            using (request)
            {
                if (depth >= MaxChain)
                {
                    throw Invalid("previous_response_id", $"the chain of previous responses is longer than {MaxChain}.");
                }

                turns.AddRange(Conversation(request.RootElement, caller, depth + 1, referenced));
            }

            turns.AddRange(ResponsesItems.Turns(output));
        }

        switch (Optional(root, "input"))
        {
            case { ValueKind: JsonValueKind.String } plain:
                turns.Add(new ChatMessage("user", plain.GetString()!));
                break;
            case { ValueKind: JsonValueKind.Array } items when items.GetArrayLength() <= DoorFields.MaxMessages:
                var i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    ResponsesItems.Add(turns, item, $"input[{i++}]", id => Referenced(id, caller, referenced));
                }

                break;
            case null when depth > 0 || turns.Count > 0:
                break;
            default:
                throw Invalid("input", $"'input' is required: a string, or an array of at most {DoorFields.MaxMessages} items.");
        }

        return turns;
    }

    /// <summary>The item an <c>item_reference</c> names, from the caller's stored response it came from.</summary>
    private JsonElement Referenced(string id, ApiPrincipal caller, Dictionary<string, JsonElement> referenced)
    {
        var at = id.LastIndexOf('_');
        var prefix = id.IndexOf('_', StringComparison.Ordinal);
        if (prefix < 0 || at <= prefix || !int.TryParse(id.AsSpan(at + 1), out var index))
        {
            throw Invalid("input", $"the item_reference '{id}' names no item of a stored response.");
        }

        var responseId = "resp_" + id[(prefix + 1)..at];
        if (!referenced.TryGetValue(responseId, out var output))
        {
            var (request, read) = Stored(responseId, caller, "input");
            request.Dispose();
            referenced[responseId] = output = read;
        }

        return index < output.GetArrayLength() ? output[index] : throw Invalid("input", $"the item_reference '{id}' names no item of a stored response.");
    }

    /// <summary>The request and the output items of the caller's stored response <paramref name="responseId"/>.</summary>
    private (JsonDocument Request, JsonElement Output) Stored(string responseId, ApiPrincipal caller, string param)
    {
        if (store is not { IsStoring: true })
        {
            throw Invalid(param, $"'{param}': this server keeps no content (its vault retention is 0), so there are no stored responses.");
        }

        var content = responseId.StartsWith("resp_", StringComparison.Ordinal) ? store.Read(responseId["resp_".Length..], caller.KeyId) : null;
        if (content is null)
        {
            throw new Http.ApiException(404, $"No stored response '{responseId}' belongs to this key (it may have expired after {store.RetentionDays} days, or been deleted).", param: param, code: "response_not_found");
        }

        return (JsonDocument.Parse(content.Request), ResponsesItems.Output(content.Response));
    }
}

/// <summary>Reads the items of a Responses conversation: input items into turns, and the output of a stored answer.</summary>
internal static class ResponsesItems
{
    /// <summary>The <c>output</c> array of a stored answer.</summary>
    public static JsonElement Output(byte[] response)
    {
        if (response.Length > 0 && response[0] == (byte)'{')
        {
            using var whole = JsonDocument.Parse(response);
            return whole.RootElement.GetProperty("output").Clone();
        }

        return Final(response).GetProperty("output");
    }

    /// <summary>
    /// The response object a stored stream ended with: its last <c>response.*</c> event (<c>completed</c> or
    /// <c>incomplete</c>; only answered streams are stored), or one with no output when there is none.
    /// </summary>
    public static JsonElement Final(byte[] stream)
    {
        var bytes = stream.AsSpan();
        var at = bytes.LastIndexOf("\ndata: {\"type\":\"response."u8);
        if (at < 0)
        {
            return JsonDocument.Parse("{\"output\":[]}").RootElement.Clone();
        }

        var line = bytes[(at + "\ndata: ".Length)..];
        var end = line.IndexOf((byte)'\n');
        using var final = JsonDocument.Parse(line[..(end < 0 ? line.Length : end)].ToArray());
        return final.RootElement.GetProperty("response").Clone();
    }

    /// <summary>The turns an answer's output items make: its text and calls as one assistant turn.</summary>
    public static IEnumerable<ChatMessage> Turns(JsonElement output)
    {
        var turns = new List<ChatMessage>();
        var i = 0;
        foreach (var item in output.EnumerateArray())
        {
            Add(turns, item, $"output[{i++}]", _ => throw Invalid("input", "a stored answer holds no references."));
        }

        return turns;
    }

    /// <summary>Adds one item; consecutive assistant text and calls join into one assistant turn, as templates expect.</summary>
    public static void Add(List<ChatMessage> turns, JsonElement item, string at, Func<string, JsonElement> resolve)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(at, $"{at} must be an item object.");
        }

        var type = OptionalString(item, "type") ?? (Optional(item, "role") is not null ? "message" : null);
        switch (type)
        {
            case "message":
                var role = OptionalString(item, "role") switch
                {
                    "user" => "user",
                    "assistant" => "assistant",
                    "system" or "developer" => "system",
                    var other => throw Invalid($"{at}.role", $"{at}.role must be 'user', 'assistant', 'system' or 'developer' (got '{other}')."),
                };
                var text = Text(Optional(item, "content"), $"{at}.content");
                Append(turns, role, new TextContent(text));
                break;
            case "function_call":
                var name = OptionalString(item, "name");
                if (!ToolDefinition.IsValidName(name))
                {
                    throw Invalid($"{at}.name", $"{at}.name must be 1 to 64 letters, digits, '_' or '-'.");
                }

                var arguments = OptionalString(item, "arguments") ?? throw Invalid($"{at}.arguments", $"{at}.arguments is required: the call's arguments as a JSON string.");
                Append(turns, "assistant", new FunctionCallContent(CallId(item, at), name!, OpenAiTools.CheckedArguments(arguments, $"{at}.arguments")));
                break;
            case "function_call_output":
                var output = Optional(item, "output") is { ValueKind: JsonValueKind.String } o ? o.GetString()! : Text(Optional(item, "output"), $"{at}.output");
                turns.Add(new ChatMessage("tool", [new FunctionResultContent(CallId(item, at), output)]));
                break;
            case "item_reference":
                var id = OptionalString(item, "id") ?? throw Invalid($"{at}.id", $"{at}.id is required in an item_reference.");
                Add(turns, resolve(id), at, _ => throw Invalid(at, $"{at}: a referenced item holds no references."));
                break;
            case "reasoning":
                throw Invalid($"{at}.type", $"{at} is a reasoning item: no brain here reasons, so no answer of this server holds one.");
            default:
                throw Invalid($"{at}.type", $"{at}.type must be 'message', 'function_call', 'function_call_output' or 'item_reference' (got '{type}'): only text and function tools are served.");
        }
    }

    private static string CallId(JsonElement item, string at) =>
        OptionalString(item, "call_id") is { Length: > 0 } id ? id : throw Invalid($"{at}.call_id", $"{at}.call_id is required.");

    private static void Append(List<ChatMessage> turns, string role, ChatContent part)
    {
        if (role == "assistant" && turns.Count > 0 && turns[^1].Role == "assistant")
        {
            turns[^1] = new ChatMessage("assistant", [.. turns[^1].Contents.Where(c => c is not TextContent { Text.Length: 0 }), part]);
            return;
        }

        turns.Add(new ChatMessage(role, [part]));
    }

    /// <summary>Content as text: a string, or parts of <c>input_text</c> / <c>output_text</c> (and refusals, as text).</summary>
    private static string Text(JsonElement? content, string at)
    {
        if (content is { ValueKind: JsonValueKind.String } s)
        {
            return s.GetString()!;
        }

        if (content is not { ValueKind: JsonValueKind.Array } parts)
        {
            throw Invalid(at, $"{at} must be a string or an array of text parts.");
        }

        var text = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            var type = part.ValueKind == JsonValueKind.Object ? OptionalString(part, "type") : null;
            text.Append(type switch
            {
                "input_text" or "output_text" => OptionalString(part, "text") ?? throw Invalid(at, $"{at}: a {type} part needs 'text'."),
                "refusal" => OptionalString(part, "refusal") ?? "",
                _ => throw Invalid(at, $"{at} parts must be input_text or output_text (got '{type}'): only text is served."),
            });
        }

        return text.ToString();
    }
}
