using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Inference;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors.Anthropic;

/// <summary>Reads Anthropic's client tools (<c>tools</c> with an <c>input_schema</c>) and <c>tool_choice</c>.</summary>
internal static class AnthropicTools
{
    public static ToolRequest Parse(JsonElement root)
    {
        var tools = Definitions(root);
        if (Optional(root, "tool_choice") is not { ValueKind: not JsonValueKind.Null } choice)
        {
            return ToolRequest.Checked(tools, tools.Count > 0 ? ToolMode.Auto : ToolMode.None, parallel: true);
        }

        if (choice.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("tool_choice", "'tool_choice' must be an object: {\"type\":\"auto\"|\"any\"|\"tool\"|\"none\"}.");
        }

        var parallel = !OptionalBool(choice, "disable_parallel_tool_use", false);
        var type = OptionalString(choice, "type");
        if (tools.Count == 0 && type != "none")
        {
            throw Invalid("tool_choice", "'tool_choice' is only allowed when 'tools' are given.");
        }

        var mode = type switch
        {
            "auto" => ToolMode.Auto,
            "any" => ToolMode.Required,
            "none" => ToolMode.None,
            "tool" => OptionalString(choice, "name") is { } name && tools.Any(t => t.Name == name)
                ? ToolMode.Named(name)
                : throw Invalid("tool_choice.name", $"'tool_choice' of type 'tool' must name one of the tools (got '{OptionalString(choice, "name")}')."),
            _ => throw Invalid("tool_choice.type", $"'tool_choice.type' must be 'auto', 'any', 'tool' or 'none' (got '{type}')."),
        };
        return ToolRequest.Checked(tools, mode, parallel);
    }

    private static List<ToolDefinition> Definitions(JsonElement root)
    {
        if (Optional(root, "tools") is not { ValueKind: not JsonValueKind.Null } tools)
        {
            return [];
        }

        if (tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() > ChatRequest.MaxTools)
        {
            throw Invalid("tools", $"'tools' must be an array of at most {ChatRequest.MaxTools} tools, each {{name, description, input_schema}}.");
        }

        var list = new List<ToolDefinition>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tool in tools.EnumerateArray())
        {
            var at = $"tools[{list.Count}]";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(at, $"{at} must be an object {{name, description, input_schema}}.");
            }

            // Anthropic's server tools (web search, code execution, bash, ...) carry a versioned type and run at Anthropic.
            if (OptionalString(tool, "type") is { } type && type != "custom")
            {
                throw Invalid($"{at}.type", $"{at} is the server tool '{type}': only client tools (name, description, input_schema) are served.");
            }

            var name = DoorFields.ToolName(OptionalString(tool, "name"), names, $"{at}.name");

            if (Optional(tool, "input_schema") is not { ValueKind: JsonValueKind.Object } schema)
            {
                throw Invalid($"{at}.input_schema", $"{at}.input_schema is required: a JSON Schema object.");
            }

            list.Add(new ToolDefinition(name, OptionalString(tool, "description"), schema.GetRawText(), Optional(tool, "strict") is { ValueKind: JsonValueKind.True }));
        }

        return list;
    }
}
