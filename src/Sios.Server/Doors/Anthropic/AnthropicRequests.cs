using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Doors;
using Sios.Server.Inference;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors.Anthropic;

/// <summary>
/// Reads Anthropic Messages requests (<c>POST /v1/messages</c>) into the door-neutral request: <c>system</c>, text,
/// <c>tool_use</c> and <c>tool_result</c> blocks, <c>tools</c> and <c>tool_choice</c>, refusing what is not served
/// (images, documents, thinking, server tools, prefill) with a 400 that names the field.
/// </summary>
internal static class AnthropicRequests
{
    public static GenerationRequest Parse(JsonElement root)
    {
        Unsupported(root, "top_k", "top_k sampling is not offered; use temperature or top_p.");
        Unsupported(root, "mcp_servers", "MCP servers are not reached from here: tools run on the client's side.");
        Unsupported(root, "container", "code-execution containers are not served.");
        if (Optional(root, "thinking") is { } thinking && (thinking.ValueKind != JsonValueKind.Object || OptionalString(thinking, "type") != "disabled"))
        {
            throw Invalid("thinking", "extended thinking is not served; leave 'thinking' out or set {\"type\":\"disabled\"}.");
        }

        var maxTokens = OptionalInteger(root, "max_tokens", 1, int.MaxValue) ?? throw Invalid("max_tokens", "'max_tokens' is required: the most tokens to generate.");
        if (Optional(root, "messages") is not { ValueKind: JsonValueKind.Array } messages || messages.GetArrayLength() is 0 or > DoorFields.MaxMessages)
        {
            throw Invalid("messages", $"'messages' is required: an array of 1 to {DoorFields.MaxMessages} {{role, content}} objects.");
        }

        var turns = new List<ChatMessage>();
        if (ReadSystem(root) is { Length: > 0 } system)
        {
            turns.Add(new ChatMessage("system", system));
        }

        var position = 0;
        foreach (var message in messages.EnumerateArray())
        {
            ReadMessage(message, position++, turns);
        }

        if (turns[^1].Role == "assistant")
        {
            throw Invalid($"messages[{position - 1}]", "the last message is the assistant's: continuing a prefilled answer is not served; end with a user message.");
        }

        if (ToolRequest.UnansweredResult(turns) is { } unanswered)
        {
            throw Invalid("messages", $"a tool_result answers the call '{turns[unanswered].Result!.CallId}', but no earlier assistant message made a tool_use with that id.");
        }

        var stop = DoorFields.Stops(root, "stop_sequences");
        return new GenerationRequest
        {
            Model = RequiredString(root, "model"),
            Messages = turns,
            MaxTokens = (int)maxTokens,
            Temperature = OptionalNumber(root, "temperature", 0, 1),
            TopP = OptionalNumber(root, "top_p", double.Epsilon, 1),
            Stop = stop,
            Stream = OptionalBool(root, "stream", false),
            Tools = AnthropicTools.Parse(root),
        };
    }

    /// <summary>The system prompt: a string, or text blocks joined.</summary>
    private static string? ReadSystem(JsonElement root) => Optional(root, "system") switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } text => text.GetString(),
        { ValueKind: JsonValueKind.Array } blocks => TextBlocks(blocks, "system"),
        _ => throw Invalid("system", "'system' must be a string or an array of text blocks."),
    };

    /// <summary>
    /// Adds the turns of one message: an assistant's text and <c>tool_use</c> blocks as one turn; a user's
    /// <c>tool_result</c> blocks as tool turns, in order, then its text as a user turn.
    /// </summary>
    private static void ReadMessage(JsonElement message, int position, List<ChatMessage> turns)
    {
        var at = $"messages[{position}]";
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(at, $"{at} must be an object with 'role' and 'content'.");
        }

        var role = OptionalString(message, "role");
        if (role is not ("user" or "assistant"))
        {
            throw Invalid($"{at}.role", $"{at}.role must be 'user' or 'assistant' (the system prompt goes in 'system').");
        }

        var content = Optional(message, "content");
        if (content is { ValueKind: JsonValueKind.String } plain)
        {
            turns.Add(new ChatMessage(role, plain.GetString()!));
            return;
        }

        if (content is not { ValueKind: JsonValueKind.Array } blocks)
        {
            throw Invalid($"{at}.content", $"{at}.content must be a string or an array of content blocks.");
        }

        var parts = new List<ChatContent>();
        var i = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            var where = $"{at}.content[{i++}]";
            var type = block.ValueKind == JsonValueKind.Object ? OptionalString(block, "type") : null;
            switch (type, role)
            {
                case ("text", _):
                    parts.Add(new TextContent(RequiredString(block, "text")));
                    break;
                case ("tool_use", "assistant"):
                    parts.Add(ToolUse(block, where));
                    break;
                case ("tool_result", "user"):
                    turns.Add(new ChatMessage("tool", [ToolResult(block, where)]));
                    break;
                case ("image" or "document" or "search_result", _):
                    throw Invalid($"{where}.type", $"{where} is a {type} block: only text is served.");
                case ("thinking" or "redacted_thinking", _):
                    throw Invalid($"{where}.type", $"{where} is a {type} block: extended thinking is not served, so no answer of this server holds one.");
                case ("tool_use" or "tool_result", _):
                    throw Invalid($"{where}.type", $"{where}: a {type} block belongs in {(type == "tool_use" ? "an assistant" : "a user")} message.");
                default:
                    throw Invalid($"{where}.type", $"{where} must be a block of type 'text', 'tool_use' (assistant) or 'tool_result' (user).");
            }
        }

        // A user message of tool results alone is already its tool turns; an empty one is still a turn.
        if (parts.Count > 0 || role == "assistant" || blocks.GetArrayLength() == 0)
        {
            turns.Add(new ChatMessage(role, parts.Count > 0 ? parts : [new TextContent("")]));
        }
    }

    private static FunctionCallContent ToolUse(JsonElement block, string at)
    {
        var id = OptionalString(block, "id") is { Length: > 0 } given ? given : throw Invalid($"{at}.id", $"{at}.id is required in a tool_use block.");
        var name = OptionalString(block, "name");
        if (!ToolDefinition.IsValidName(name))
        {
            throw Invalid($"{at}.name", $"{at}.name must be 1 to 64 letters, digits, '_' or '-'.");
        }

        if (Optional(block, "input") is not { ValueKind: JsonValueKind.Object } input)
        {
            throw Invalid($"{at}.input", $"{at}.input must be a JSON object.");
        }

        var arguments = input.GetRawText();
        DoorFields.CheckArgumentsSize(arguments, $"{at}.input");
        return new FunctionCallContent(id, name!, arguments);
    }

    private static FunctionResultContent ToolResult(JsonElement block, string at)
    {
        var id = OptionalString(block, "tool_use_id") is { Length: > 0 } given ? given : throw Invalid($"{at}.tool_use_id", $"{at}.tool_use_id is required in a tool_result block.");
        var text = Optional(block, "content") switch
        {
            null or { ValueKind: JsonValueKind.Null } => "",
            { ValueKind: JsonValueKind.String } s => s.GetString()!,
            { ValueKind: JsonValueKind.Array } blocks => TextBlocks(blocks, $"{at}.content"),
            _ => throw Invalid($"{at}.content", $"{at}.content must be a string or an array of text blocks."),
        };
        return new FunctionResultContent(id, text);
    }

    private static string TextBlocks(JsonElement blocks, string at)
    {
        var text = new StringBuilder();
        var i = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || OptionalString(block, "type") != "text")
            {
                throw Invalid($"{at}[{i}]", $"{at}[{i}] must be a text block: only text is served.");
            }

            text.Append(RequiredString(block, "text"));
            i++;
        }

        return text.ToString();
    }
}
