using System.Globalization;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Brains.Tools;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors.Ollama;

/// <summary>
/// The tool calls and results of one Ollama conversation, read in order. Ollama ties a result to its call by place
/// (its <c>tool_name</c>, since 0.12.10 optionally a <c>tool_call_id</c>), the engine by id: calls sent without an
/// <c>id</c> get one, and a result without a <c>tool_call_id</c> answers the first unanswered call of the latest
/// assistant turn with calls (of its <c>tool_name</c> when given). A result that answers no call is refused, as
/// through every door.
/// </summary>
internal sealed class OllamaToolHistory
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly List<(string Id, string Name)> _unanswered = [];

    /// <summary>An assistant turn's <c>tool_calls</c> (arguments as a JSON object) as parts.</summary>
    public IEnumerable<ChatContent> Calls(JsonElement calls, int position)
    {
        var param = $"messages[{position}].tool_calls";
        if (calls.ValueKind != JsonValueKind.Array || calls.GetArrayLength() is 0 or > ToolCallFormat.MaxParallelCalls * 16)
        {
            throw Invalid(param, $"{param} must be a non-empty array of calls.");
        }

        _unanswered.Clear();
        var parts = new List<ChatContent>();
        foreach (var call in calls.EnumerateArray())
        {
            var at = $"{param}[{parts.Count}]";
            if (call.ValueKind != JsonValueKind.Object || Optional(call, "function") is not { ValueKind: JsonValueKind.Object } function
                || OptionalString(function, "name") is not { } name || !ToolDefinition.IsValidName(name))
            {
                throw Invalid(at, $"{at} must be {{\"function\":{{\"name\":…,\"arguments\":{{…}}}}}} with a valid tool name.");
            }

            var arguments = Optional(function, "arguments") switch
            {
                null => "{}",
                { ValueKind: JsonValueKind.Object } value => value.GetRawText(),
                _ => throw Invalid($"{at}.function.arguments", $"{at}.function.arguments must be a JSON object (Ollama sends arguments as an object, not a string)."),
            };
            DoorFields.CheckArgumentsSize(arguments, $"{at}.function.arguments");
            var id = OptionalString(call, "id") is { Length: > 0 } given ? given : Synthesized(position, parts.Count);
            _ids.Add(id);
            _unanswered.Add((id, name));
            parts.Add(new FunctionCallContent(id, name, arguments));
        }

        return parts;
    }

    /// <summary>A <c>role: "tool"</c> message's result, tied to the call it answers.</summary>
    public FunctionResultContent Answer(JsonElement message, int position, string content)
    {
        var param = $"messages[{position}]";
        if (OptionalString(message, "tool_call_id") is { Length: > 0 } callId)
        {
            if (!_ids.Contains(callId))
            {
                throw Invalid($"{param}.tool_call_id", $"{param} is the result of the call '{callId}', but no earlier assistant message made a call with that id.");
            }

            _unanswered.RemoveAll(c => c.Id == callId);
            return new FunctionResultContent(callId, content);
        }

        var tool = OptionalString(message, "tool_name");
        var index = tool is null ? (_unanswered.Count > 0 ? 0 : -1) : _unanswered.FindIndex(c => c.Name == tool);
        if (index < 0)
        {
            throw tool is null
                ? Invalid(param, $"{param} is a tool result, but the latest assistant message with tool_calls has no call left unanswered.")
                : Invalid($"{param}.tool_name", $"{param} is the result of '{tool}', but the latest assistant message with tool_calls has no unanswered call of it.");
        }

        var answered = _unanswered[index];
        _unanswered.RemoveAt(index);
        return new FunctionResultContent(answered.Id, content);
    }

    /// <summary>
    /// The id of a call sent without one: nine letters and digits, made from its place in the conversation, as the
    /// strictest chat templates (Mistral's) demand of every call id.
    /// </summary>
    private static string Synthesized(int position, int index) => string.Create(CultureInfo.InvariantCulture, $"c{position:D5}{index:D3}");
}
