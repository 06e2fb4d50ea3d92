using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Brains.Registry;
using Sios.Server.Inference;
using static Sios.Server.Doors.DoorFields;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors.OpenAi;

/// <summary>Reads OpenAI request bodies, refusing what does not fit with a 400 that names the field.</summary>
internal static class OpenAiRequests
{
    public static GenerationRequest ParseChat(JsonElement root)
    {
        Unsupported(root, "logprobs", "log-probabilities are not reported.");
        Unsupported(root, "audio", "only text is served.");
        RequireSingleChoice(root);
        var request = ParseCommon(root, "max_completion_tokens");
        if (Optional(root, "messages") is not { ValueKind: JsonValueKind.Array } messages)
        {
            throw Invalid("messages", "'messages' is required: an array of {role, content} objects.");
        }

        if (messages.GetArrayLength() is 0 or > MaxMessages)
        {
            throw Invalid("messages", $"'messages' must hold between 1 and {MaxMessages} messages.");
        }

        var list = new List<ChatMessage>(messages.GetArrayLength());
        foreach (var message in messages.EnumerateArray())
        {
            list.Add(ParseMessage(message, list.Count));
        }

        OpenAiTools.CheckResults(list);
        return request with { Messages = list, Format = ParseResponseFormat(root), Tools = OpenAiTools.Parse(root) };
    }

    public static GenerationRequest ParseCompletion(JsonElement root)
    {
        Unsupported(root, "echo", "the prompt is not echoed.");
        Unsupported(root, "suffix", "insertion is not supported.");
        Unsupported(root, "logprobs", "log-probabilities are not reported.");
        RequireSingleChoice(root);
        if (Optional(root, "best_of") is { } bestOf && !(bestOf.TryGetInt32(out var b) && b == 1))
        {
            throw Invalid("best_of", "'best_of' must be 1: one completion per request.");
        }

        var prompts = OptionalStrings(root, "prompt", 1) ?? throw Invalid("prompt", "'prompt' is required: a string.");
        if (prompts.Count != 1 || prompts[0].Length == 0)
        {
            throw Invalid("prompt", "'prompt' must be one non-empty string.");
        }

        return ParseCommon(root, null) with { Prompt = prompts[0] };
    }

    public static EmbeddingsRequest ParseEmbeddings(JsonElement root)
    {
        var model = RequiredString(root, "model");
        Unsupported(root, "dimensions", "vectors have the brain's own width.");
        var inputs = EmbeddingInputs(root);
        var format = OptionalString(root, "encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
        {
            throw Invalid("encoding_format", "'encoding_format' must be 'float' or 'base64'.");
        }

        return new EmbeddingsRequest(model, inputs, format == "base64");
    }

    private static GenerationRequest ParseCommon(JsonElement root, string? maxTokensAlias)
    {
        var maxTokens = OptionalInteger(root, "max_tokens", 1, int.MaxValue);
        if (maxTokensAlias is not null && OptionalInteger(root, maxTokensAlias, 1, int.MaxValue) is { } alias)
        {
            maxTokens = alias;
        }

        var stream = OptionalBool(root, "stream", false);
        var includeUsage = false;
        if (Optional(root, "stream_options") is { } options)
        {
            if (options.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("stream_options", "'stream_options' must be an object.");
            }

            if (!stream)
            {
                throw Invalid("stream_options", "'stream_options' is only allowed with 'stream': true.");
            }

            includeUsage = OptionalBool(options, "include_usage", false);
        }

        return new GenerationRequest
        {
            Model = RequiredString(root, "model"),
            MaxTokens = (int?)maxTokens,
            Temperature = OptionalNumber(root, "temperature", 0, 2),
            TopP = OptionalNumber(root, "top_p", double.Epsilon, 1),
            Seed = (uint?)OptionalInteger(root, "seed", 0, uint.MaxValue),
            Stop = Stops(root),
            Stream = stream,
            IncludeUsage = includeUsage,
        };
    }

    private static void RequireSingleChoice(JsonElement root)
    {
        if (OptionalInteger(root, "n", 1, 128) is > 1)
        {
            throw Invalid("n", "'n' must be 1: one answer per request (each answer is sealed on its own).");
        }
    }

    private static ChatMessage ParseMessage(JsonElement message, int position)
    {
        var param = $"messages[{position}]";
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(param, $"{param} must be an object with 'role' and 'content'.");
        }

        var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : throw Invalid($"{param}.role", $"{param}.role must be a string.");
        role = role switch
        {
            "system" or "developer" => "system",
            "user" or "assistant" or "tool" => role,
            "function" => throw Invalid($"{param}.role", $"{param}.role 'function' is OpenAI's deprecated form of tool results; send role 'tool' with a 'tool_call_id'."),
            _ => throw Invalid($"{param}.role", $"{param}.role must be 'system', 'developer', 'user', 'assistant' or 'tool' (got '{role}')."),
        };

        var hasContent = message.TryGetProperty("content", out var content) && content.ValueKind != JsonValueKind.Null;
        if (role == "tool")
        {
            var id = OptionalString(message, "tool_call_id") is { Length: > 0 } callId ? callId : throw Invalid($"{param}.tool_call_id", $"{param}.tool_call_id is required in a tool result.");
            return new ChatMessage(role, [new FunctionResultContent(id, hasContent ? ReadContent(content, $"{param}.content") : "")]);
        }

        if (role == "assistant" && Optional(message, "tool_calls") is { ValueKind: not JsonValueKind.Null } calls)
        {
            var text = hasContent ? ReadContent(content, $"{param}.content") : "";
            return new ChatMessage(role, [.. text.Length > 0 ? [new TextContent(text)] : Array.Empty<ChatContent>(), .. OpenAiTools.ParseCalls(calls, $"{param}.tool_calls")]);
        }

        if (!hasContent)
        {
            throw Invalid($"{param}.content", $"{param}.content is required.");
        }

        return new ChatMessage(role, ReadContent(content, $"{param}.content"));
    }

    private static string ReadContent(JsonElement content, string param)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(param, $"{param} must be a string or an array of text parts.");
        }

        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object
                || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || type.GetString() != "text"
                || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
            {
                throw Invalid(param, $"{param} parts must be {{\"type\":\"text\",\"text\":...}}: only text is served.");
            }

            text.Append(value.GetString());
        }

        return text.ToString();
    }

    private static ResponseFormat ParseResponseFormat(JsonElement root)
    {
        if (Optional(root, "response_format") is not { } format)
        {
            return ResponseFormat.Text;
        }

        if (format.ValueKind != JsonValueKind.Object || OptionalString(format, "type") is not { } type)
        {
            throw Invalid("response_format", "'response_format' must be an object with a 'type'.");
        }

        switch (type)
        {
            case "text":
                return ResponseFormat.Text;
            case "json_object":
                return ResponseFormat.JsonObject;
            case "json_schema":
                if (Optional(format, "json_schema") is not { ValueKind: JsonValueKind.Object } spec
                    || Optional(spec, "schema") is not { ValueKind: JsonValueKind.Object } schema)
                {
                    throw Invalid("response_format", "'response_format.json_schema.schema' must be a JSON Schema object.");
                }

                return ResponseFormat.JsonSchema(schema.GetRawText());
            default:
                throw Invalid("response_format", $"'response_format.type' must be 'text', 'json_object' or 'json_schema' (got '{type}').");
        }
    }
}
