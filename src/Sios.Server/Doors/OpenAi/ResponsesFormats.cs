using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Inference;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors.OpenAi;

/// <summary>The Responses API's flat function tools, its <c>tool_choice</c>, and its <c>text.format</c>.</summary>
internal static class ResponsesFormats
{
    /// <summary><c>text.format</c>: <c>text</c>, <c>json_object</c>, or <c>json_schema</c> with the schema beside the type.</summary>
    public static ResponseFormat Read(JsonElement format)
    {
        if (format.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("text.format", "'text.format' must be an object with a 'type'.");
        }

        return OptionalString(format, "type") switch
        {
            "text" => ResponseFormat.Text,
            "json_object" => ResponseFormat.JsonObject,
            "json_schema" => Optional(format, "schema") is { ValueKind: JsonValueKind.Object } schema
                ? ResponseFormat.JsonSchema(schema.GetRawText())
                : throw Invalid("text.format.schema", "'text.format.schema' must be a JSON Schema object."),
            var other => throw Invalid("text.format.type", $"'text.format.type' must be 'text', 'json_object' or 'json_schema' (got '{other}')."),
        };
    }

    /// <summary><c>tools</c> (function tools: <c>{type, name, description, parameters, strict}</c>), <c>tool_choice</c> and <c>parallel_tool_calls</c>.</summary>
    public static ToolRequest Tools(JsonElement root)
    {
        var tools = new List<ToolDefinition>();
        if (Optional(root, "tools") is { ValueKind: not JsonValueKind.Null } list)
        {
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() > ChatRequest.MaxTools)
            {
                throw Invalid("tools", $"'tools' must be an array of at most {ChatRequest.MaxTools} function tools.");
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var tool in list.EnumerateArray())
            {
                var at = $"tools[{tools.Count}]";
                if (tool.ValueKind != JsonValueKind.Object || OptionalString(tool, "type") != "function")
                {
                    throw Invalid($"{at}.type", $"{at} is not a function tool: only function tools run here (the client runs them), not hosted ones such as web or file search.");
                }

                var name = DoorFields.ToolName(OptionalString(tool, "name"), names, $"{at}.name");

                var parameters = Optional(tool, "parameters") switch
                {
                    null or { ValueKind: JsonValueKind.Null } => ToolDefinition.NoParameters,
                    { ValueKind: JsonValueKind.Object } p => p.GetRawText(),
                    _ => throw Invalid($"{at}.parameters", $"{at}.parameters must be a JSON Schema object."),
                };
                tools.Add(new ToolDefinition(name, OptionalString(tool, "description"), parameters, Optional(tool, "strict") is { ValueKind: JsonValueKind.True }));
            }
        }

        var mode = Optional(root, "tool_choice") switch
        {
            null or { ValueKind: JsonValueKind.Null } => tools.Count > 0 ? ToolMode.Auto : ToolMode.None,
            _ when tools.Count == 0 => throw Invalid("tool_choice", "'tool_choice' is only allowed when 'tools' are given."),
            { ValueKind: JsonValueKind.String } s => s.GetString() switch
            {
                "auto" => ToolMode.Auto,
                "none" => ToolMode.None,
                "required" => ToolMode.Required,
                var other => throw Invalid("tool_choice", $"'tool_choice' must be 'auto', 'none', 'required' or {{\"type\":\"function\",\"name\":…}} (got '{other}')."),
            },
            { ValueKind: JsonValueKind.Object } o when OptionalString(o, "type") == "function" && OptionalString(o, "name") is { } name =>
                tools.Any(t => t.Name == name) ? ToolMode.Named(name) : throw Invalid("tool_choice", $"'tool_choice' names the function '{name}', which is not among the tools."),
            _ => throw Invalid("tool_choice", "'tool_choice' must be 'auto', 'none', 'required' or {\"type\":\"function\",\"name\":…}."),
        };
        return ToolRequest.Checked(tools, mode, OptionalBool(root, "parallel_tool_calls", true));
    }
}
