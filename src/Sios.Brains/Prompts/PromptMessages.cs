using System.Text.Json;
using System.Text.Json.Nodes;
using Sios.Brains.Engines;
using Sios.Brains.Tools;

namespace Sios.Brains.Prompts;

/// <summary>
/// The template variables of a conversation, in the shape Hugging Face templates expect (OpenAI's messages, with a
/// call's arguments as parsed objects, as vLLM and llama.cpp pass them). For a template that knows no tools the tools
/// are described in the system turn and calls and results are written as text of the generic format.
/// </summary>
internal static class PromptMessages
{
    // As deep as the gateway lets a tool schema or call arguments be (the schema reader's own limit).
    private static readonly JsonDocumentOptions s_depth = new() { MaxDepth = 128 };

    public static JsonArray Build(ChatRequest request, bool generic, bool takesSystem, ToolCallFormat format)
    {
        var names = request.Messages.SelectMany(m => m.Calls).GroupBy(c => c.CallId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Name, StringComparer.Ordinal);
        var messages = new JsonArray();
        foreach (var m in request.Messages)
        {
            messages.Add(generic ? GenericTurn(m, names) : Turn(m, names));
        }

        if (generic && request.Tools.Count > 0 && request.ToolMode is not ToolMode.NoneMode)
        {
            Describe(messages, request.Tools, takesSystem, format);
        }

        return messages;
    }

    public static JsonArray Tools(IReadOnlyList<ToolDefinition> tools)
    {
        var list = new JsonArray();
        foreach (var tool in tools)
        {
            var function = new JsonObject { ["name"] = tool.Name };
            if (tool.Description is { } description)
            {
                function["description"] = description;
            }

            function["parameters"] = Parse(tool.Parameters);
            list.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }

        return list;
    }

    private static JsonNode? Parse(string json) => JsonNode.Parse(json, null, s_depth);

    private static JsonObject Turn(ChatMessage m, Dictionary<string, string> names)
    {
        var calls = m.Calls.ToList();
        var turn = new JsonObject { ["role"] = m.Role };
        if (m.Result is { } result)
        {
            turn["content"] = result.Result;
            turn["tool_call_id"] = result.CallId;
            if (names.TryGetValue(result.CallId, out var name))
            {
                turn["name"] = name;
            }

            return turn;
        }

        // An empty string, not null, beside calls: templates test and concatenate content (`'</think>' in content`),
        // which fails on none; llama.cpp passes the same.
        turn["content"] = m.Content;
        if (calls.Count > 0)
        {
            var list = new JsonArray();
            foreach (var call in calls)
            {
                list.Add(new JsonObject
                {
                    ["id"] = call.CallId,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = Parse(call.Arguments) },
                });
            }

            turn["tool_calls"] = list;
        }

        return turn;
    }

    private static JsonObject GenericTurn(ChatMessage m, Dictionary<string, string> names)
    {
        if (m.Result is { } result)
        {
            var response = new JsonObject { ["tool_call_id"] = result.CallId, ["name"] = names.GetValueOrDefault(result.CallId), ["content"] = result.Result };
            return new JsonObject { ["role"] = "user", ["content"] = new JsonObject { ["tool_response"] = response }.ToJsonString() };
        }

        var calls = m.Calls.ToList();
        if (calls.Count == 0)
        {
            return new JsonObject { ["role"] = m.Role, ["content"] = m.Content };
        }

        var list = new JsonArray();
        foreach (var call in calls)
        {
            list.Add(new JsonObject { ["name"] = call.Name, ["arguments"] = Parse(call.Arguments), ["id"] = call.CallId });
        }

        var text = new JsonObject { ["tool_calls"] = list }.ToJsonString();
        return new JsonObject { ["role"] = m.Role, ["content"] = m.Content.Length == 0 ? text : m.Content + "\n" + text };
    }

    /// <summary>Tells the model which functions it may call and how, in the system turn (or the first user turn of a template without one).</summary>
    private static void Describe(JsonArray messages, IReadOnlyList<ToolDefinition> tools, bool takesSystem, ToolCallFormat format)
    {
        var description = "You can call these functions (JSON Schema of each one's arguments):\n"
            + Tools(tools).ToJsonString(new JsonSerializerOptions { WriteIndented = true })
            + $"\nTo call one or more of them, answer with only this JSON and nothing else: {format.Marker}: [{{\"name\": \"<function name>\", \"arguments\": {{…}}}}]}}"
            + "\nOtherwise, answer normally.";
        var role = takesSystem ? "system" : "user";
        if (messages.Count > 0 && messages[0] is JsonObject first && (string?)first["role"] == role)
        {
            first["content"] = description + "\n\n" + (string?)first["content"];
        }
        else
        {
            messages.Insert(0, new JsonObject { ["role"] = role, ["content"] = description });
        }
    }
}
