using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Brains.Tools;
using Sios.Server.Inference;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors.OpenAi;

/// <summary>
/// Reads OpenAI tool calling: <c>tools</c>, <c>tool_choice</c>, <c>parallel_tool_calls</c>, assistant <c>tool_calls</c>
/// and <c>role: "tool"</c> results, refusing what does not fit with a 400 that names the field.
/// </summary>
internal static class OpenAiTools
{
    public static ToolRequest Parse(JsonElement root)
    {
        if (Optional(root, "functions") is not null || Optional(root, "function_call") is not null)
        {
            throw Invalid(Optional(root, "functions") is not null ? "functions" : "function_call",
                "'functions' and 'function_call' are OpenAI's deprecated form of tool calling; send 'tools' and 'tool_choice' instead.");
        }

        var tools = ParseDefinitions(root);
        var parallel = OptionalBool(root, "parallel_tool_calls", true);
        return ToolRequest.Checked(tools, ParseChoice(root, tools), parallel);
    }

    /// <summary>An assistant turn's <c>tool_calls</c> as parts.</summary>
    public static IEnumerable<ChatContent> ParseCalls(JsonElement calls, string param)
    {
        if (calls.ValueKind != JsonValueKind.Array || calls.GetArrayLength() is 0 or > ToolCallFormat.MaxParallelCalls * 16)
        {
            throw Invalid(param, $"{param} must be a non-empty array of calls.");
        }

        var parts = new List<ChatContent>();
        var i = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var at = $"{param}[{i++}]";
            if (call.ValueKind != JsonValueKind.Object || OptionalString(call, "id") is not { Length: > 0 } id)
            {
                throw Invalid(at, $"{at} must be an object with an 'id'.");
            }

            if (OptionalString(call, "type") is { } type && type != "function")
            {
                throw Invalid($"{at}.type", $"{at}.type must be 'function'.");
            }

            if (Optional(call, "function") is not { ValueKind: JsonValueKind.Object } function
                || OptionalString(function, "name") is not { } name || !ToolDefinition.IsValidName(name))
            {
                throw Invalid($"{at}.function", $"{at}.function must hold a valid 'name' and the 'arguments' JSON string.");
            }

            var arguments = OptionalString(function, "arguments") ?? throw Invalid($"{at}.function.arguments", $"{at}.function.arguments is required: a JSON string.");
            parts.Add(new FunctionCallContent(id, name, CheckedArguments(arguments, $"{at}.function.arguments")));
        }

        return parts;
    }

    /// <summary>Every tool result answers a call made earlier in the conversation.</summary>
    public static void CheckResults(IReadOnlyList<ChatMessage> messages)
    {
        if (ToolRequest.UnansweredResult(messages) is { } i)
        {
            throw Invalid($"messages[{i}].tool_call_id",
                $"messages[{i}] is the result of the call '{messages[i].Result!.CallId}', but no earlier assistant message made a call with that id.");
        }
    }

    /// <summary>Call arguments from a client's history: a JSON object sent as a string, within the size limit.</summary>
    public static string CheckedArguments(string arguments, string param)
    {
        Doors.DoorFields.CheckArgumentsSize(arguments, param);
        try
        {
            using var parsed = JsonDocument.Parse(arguments, new JsonDocumentOptions { MaxDepth = 64 });
            return parsed.RootElement.ValueKind == JsonValueKind.Object
                ? arguments
                : throw Invalid(param, $"{param} must be a JSON object (as a string).");
        }
        catch (JsonException)
        {
            throw Invalid(param, $"{param} is not valid JSON; arguments are a JSON object sent as a string.");
        }
    }

    /// <summary>The function tools offered in <c>tools</c> (Ollama's tools are the same objects).</summary>
    public static List<ToolDefinition> ParseDefinitions(JsonElement root)
    {
        if (Optional(root, "tools") is not { } tools || tools.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (tools.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("tools", "'tools' must be an array of {\"type\":\"function\",\"function\":{…}} objects.");
        }

        if (tools.GetArrayLength() > ChatRequest.MaxTools)
        {
            throw Invalid("tools", $"'tools' holds {tools.GetArrayLength()} tools; at most {ChatRequest.MaxTools} may be offered at once.");
        }

        var list = new List<ToolDefinition>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tool in tools.EnumerateArray())
        {
            var at = $"tools[{list.Count}]";
            if (tool.ValueKind != JsonValueKind.Object || OptionalString(tool, "type") != "function")
            {
                throw Invalid($"{at}.type", $"{at} must be {{\"type\":\"function\",\"function\":{{…}}}}: only function tools are served.");
            }

            if (Optional(tool, "function") is not { ValueKind: JsonValueKind.Object } function)
            {
                throw Invalid($"{at}.function", $"{at}.function is required: an object with 'name' and 'parameters'.");
            }

            var name = DoorFields.ToolName(OptionalString(function, "name"), names, $"{at}.function.name");

            var parameters = Optional(function, "parameters") switch
            {
                null => ToolDefinition.NoParameters,
                { ValueKind: JsonValueKind.Object } p => p.GetRawText(),
                _ => throw Invalid($"{at}.function.parameters", $"{at}.function.parameters must be a JSON Schema object."),
            };
            var strict = Optional(function, "strict") is { ValueKind: JsonValueKind.True };
            list.Add(new ToolDefinition(name, OptionalString(function, "description"), parameters, strict));
        }

        return list;
    }

    private static ToolMode ParseChoice(JsonElement root, List<ToolDefinition> tools)
    {
        if (Optional(root, "tool_choice") is not { } choice || choice.ValueKind == JsonValueKind.Null)
        {
            return tools.Count > 0 ? ToolMode.Auto : ToolMode.None;
        }

        if (tools.Count == 0)
        {
            throw Invalid("tool_choice", "'tool_choice' is only allowed when 'tools' are given.");
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() switch
            {
                "auto" => ToolMode.Auto,
                "none" => ToolMode.None,
                "required" => ToolMode.Required,
                var other => throw Invalid("tool_choice", $"'tool_choice' must be 'auto', 'none', 'required' or {{\"type\":\"function\",\"function\":{{\"name\":…}}}} (got '{other}')."),
            };
        }

        if (choice.ValueKind == JsonValueKind.Object && OptionalString(choice, "type") == "function"
            && Optional(choice, "function") is { ValueKind: JsonValueKind.Object } function && OptionalString(function, "name") is { } name)
        {
            return tools.Any(t => t.Name == name)
                ? ToolMode.Named(name)
                : throw Invalid("tool_choice", $"'tool_choice' names the function '{name}', which is not among the tools.");
        }

        throw Invalid("tool_choice", "'tool_choice' must be 'auto', 'none', 'required' or {\"type\":\"function\",\"function\":{\"name\":…}}.");
    }
}
