using System.Collections.Frozen;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Server.Doors.OpenAi;
using Sios.Server.Inference;
using static Sios.Server.Doors.DoorFields;
using static Sios.Server.Http.JsonFields;

namespace Sios.Server.Doors.Ollama;

/// <summary>A generation request read through the Ollama door, with the model as the client named it (Ollama's answers echo it).</summary>
internal sealed record OllamaRequest : GenerationRequest
{
    /// <summary>The <c>model</c> exactly as sent (<c>NAME</c> or <c>NAME:latest</c>).</summary>
    public required string Asked { get; init; }
}

/// <summary>An embeddings request read through the Ollama door.</summary>
/// <param name="Asked">The <c>model</c> exactly as sent.</param>
/// <param name="Model">The brain it names.</param>
/// <param name="Inputs">The texts to embed.</param>
internal sealed record OllamaEmbedRequest(string Asked, string Model, IReadOnlyList<string> Inputs) : EmbeddingsRequest(Model, Inputs, Base64: false);

/// <summary>
/// Reads Ollama's request bodies (<c>/api/chat</c>, <c>/api/generate</c>, <c>/api/embed</c>) as its API documents
/// them, refusing what this server does not do with a 400 that says so rather than ignoring it. <c>keep_alive</c> is
/// accepted and ignored: the brain pool decides what stays loaded (by its keep-alive and memory budget), not a request.
/// </summary>
internal static class OllamaRequests
{
    /// <summary>Ollama's default tag: <c>NAME</c> and <c>NAME:latest</c> are one model.</summary>
    public const string LatestTag = ":latest";

    private const string OnlyText = "only text is served.";
    private const string NoThinking = "brains here answer without a separate thinking trace; leave 'think' out or send false.";
    private const string NoRaw = "prompts always go through the brain's chat template here (for raw text continuation use /v1/completions).";
    private const string NoTemplate = "a brain's chat template is pinned by its operator and is not replaced per request.";
    private const string NoContext = "there is no token context to resume; send the conversation to /api/chat instead.";
    private const string NoSuffix = "fill-in-the-middle is not served.";
    private const string NoLogprobs = "log-probabilities are not reported.";

    /// <summary>The options SIOS applies, from Ollama's <c>options</c>.</summary>
    private static readonly FrozenSet<string> Applied = FrozenSet.Create(StringComparer.Ordinal, "temperature", "top_p", "num_predict", "stop", "seed");

    /// <summary>
    /// Every other option Ollama defines: its runtime's (api/types.go's Options and Runner) and those of its earlier
    /// versions that clients still send (ollama-js's Options). They tune Ollama's own runner, which is not what
    /// answers here (a brain's context and threads are its operator's, sampling beyond the options applied is the
    /// engine's), so they are accepted and not applied, as Ollama itself accepts options a model does not use. Any
    /// other key is refused: Ollama only logs it, but here a typo such as <c>max_tokens</c> would otherwise silently
    /// leave the answer's length unbounded by the client's wish.
    /// </summary>
    private static readonly FrozenSet<string> NotApplied = FrozenSet.Create(StringComparer.Ordinal,
        "num_keep", "top_k", "min_p", "typical_p", "repeat_last_n", "repeat_penalty", "presence_penalty", "frequency_penalty",
        "penalize_newline", "tfs_z", "mirostat", "mirostat_tau", "mirostat_eta",
        "num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "use_mlock", "num_thread", "draft_num_predict",
        "numa", "low_vram", "f16_kv", "logits_all", "vocab_only", "embedding_only");

    private static readonly string[] Roles = ["system", "user", "assistant", "tool"];

    /// <summary>
    /// The brain an Ollama model name names: <c>NAME</c> and <c>NAME:latest</c> are brain <c>NAME</c>; any other tag
    /// is left on, so it names no brain and gets the same 404 as an unknown model.
    /// </summary>
    public static string BrainName(string model) =>
        model.EndsWith(LatestTag, StringComparison.Ordinal) ? model[..^LatestTag.Length] : model;

    /// <summary>A <c>/api/chat</c> body.</summary>
    public static OllamaRequest ParseChat(JsonElement root)
    {
        var request = ParseCommon(root);
        if (Optional(root, "messages") is not { ValueKind: JsonValueKind.Array } messages)
        {
            throw Invalid("messages", "'messages' is required: an array of {role, content} objects.");
        }

        // Ollama loads a model for an empty chat; here the pool loads a brain when it is first asked for.
        if (messages.GetArrayLength() is 0 or > MaxMessages)
        {
            throw Invalid("messages", $"'messages' must hold between 1 and {MaxMessages} messages (brains are loaded as they are asked for, so an empty chat is not needed to load one).");
        }

        var history = new OllamaToolHistory();
        var list = new List<ChatMessage>(messages.GetArrayLength());
        foreach (var message in messages.EnumerateArray())
        {
            list.Add(ParseMessage(message, list.Count, history));
        }

        // Ollama has no tool_choice: offered tools may be called or not, as the brain decides.
        var tools = OpenAiTools.ParseDefinitions(root);
        return request with { Messages = list, Tools = ToolRequest.Checked(tools, tools.Count > 0 ? ToolMode.Auto : ToolMode.None, parallel: true) };
    }

    /// <summary>
    /// A <c>/api/generate</c> body. Ollama puts the prompt through the model's template, so it is read as a chat of
    /// one user turn, after <c>system</c> when given (the brain's own system prompt, if any, still comes first: it is
    /// the operator's, and a request does not replace it).
    /// </summary>
    public static OllamaRequest ParseGenerate(JsonElement root)
    {
        var request = ParseCommon(root);
        Unsupported(root, "raw", NoRaw);
        RefuseText(root, "template", NoTemplate);
        RefuseText(root, "suffix", NoSuffix);
        Unsupported(root, "context", NoContext);
        Unsupported(root, "images", OnlyText);
        if (OptionalString(root, "prompt") is not { Length: > 0 } prompt)
        {
            throw Invalid("prompt", "'prompt' is required: a non-empty string (brains are loaded as they are asked for, so an empty prompt is not needed to load one).");
        }

        List<ChatMessage> messages = OptionalString(root, "system") is { Length: > 0 } system
            ? [new ChatMessage("system", system), new ChatMessage("user", prompt)]
            : [new ChatMessage("user", prompt)];
        return request with { Messages = messages };
    }

    /// <summary>
    /// A <c>/api/embed</c> body. An input longer than the brain's window is refused with a 400, never cut, whatever
    /// <c>truncate</c> says (Ollama cuts by default): a vector of part of a text would pass for the whole text's.
    /// </summary>
    public static OllamaEmbedRequest ParseEmbed(JsonElement root)
    {
        var asked = RequiredString(root, "model");
        if (OptionalInteger(root, "dimensions", 0, int.MaxValue) is > 0)
        {
            throw Invalid("dimensions", "'dimensions' is not supported: vectors have the brain's own width.");
        }

        _ = OptionalBool(root, "truncate", true);
        _ = ReadOptions(root);
        return new OllamaEmbedRequest(asked, BrainName(asked), EmbeddingInputs(root));
    }

    /// <summary>
    /// What chat and generate share: the model, <c>stream</c> (true unless false, as in Ollama), <c>format</c>,
    /// <c>options</c>, and the refusals of what is not served.
    /// </summary>
    private static OllamaRequest ParseCommon(JsonElement root)
    {
        var asked = RequiredString(root, "model");
        if (Optional(root, "think") is { } think && think.ValueKind != JsonValueKind.False)
        {
            throw Invalid("think", "'think' is not supported: " + NoThinking);
        }

        Unsupported(root, "logprobs", NoLogprobs);
        if (OptionalInteger(root, "top_logprobs", 0, 20) is > 0)
        {
            throw Invalid("top_logprobs", "'top_logprobs' is not supported: " + NoLogprobs);
        }

        var request = new OllamaRequest
        {
            Model = BrainName(asked),
            Asked = asked,
            Stream = OptionalBool(root, "stream", true),
            Format = ParseFormat(root),
        };
        if (ReadOptions(root) is not { } options)
        {
            return request;
        }

        // Ollama's -1 (until the end of the turn) and -2 (until the context is full) leave the length to the brain's own limit.
        var predict = OptionalInteger(options, "num_predict", -2, int.MaxValue);
        if (predict == 0)
        {
            throw Invalid("num_predict", "'num_predict' must be at least 1, or -1 for the brain's own limit.");
        }

        // Ollama's -1 asks for a random seed, as leaving the seed out does here.
        var seed = OptionalInteger(options, "seed", -1, uint.MaxValue);
        return request with
        {
            MaxTokens = predict > 0 ? (int)predict : null,
            Temperature = OptionalNumber(options, "temperature", 0, 2),
            TopP = OptionalNumber(options, "top_p", double.Epsilon, 1),
            Seed = seed >= 0 ? (uint)seed : null,
            Stop = Stops(options),
        };
    }

    /// <summary>The <c>options</c> object, its keys checked (see <see cref="NotApplied"/>), or null when absent.</summary>
    private static JsonElement? ReadOptions(JsonElement root)
    {
        if (Optional(root, "options") is not { } options)
        {
            return null;
        }

        if (options.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("options", "'options' must be an object.");
        }

        foreach (var option in options.EnumerateObject().Where(o => !Applied.Contains(o.Name)))
        {
            var param = $"options.{option.Name}";
            if (!NotApplied.Contains(option.Name))
            {
                throw Invalid(param, $"'{param}' is not one of Ollama's options; this server applies {string.Join(", ", Applied.Order(StringComparer.Ordinal))} and accepts Ollama's others (num_ctx, top_k, repeat_penalty, ...) without applying them.");
            }

            // As Ollama reads them: each is a number or a boolean.
            if (option.Value.ValueKind is not (JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                throw Invalid(param, $"'{param}' must be a number or a boolean.");
            }
        }

        return options;
    }

    /// <summary>Ollama's <c>format</c>: <c>"json"</c> for any JSON object, a JSON Schema object to follow, or none.</summary>
    private static ResponseFormat ParseFormat(JsonElement root) => Optional(root, "format") switch
    {
        null => ResponseFormat.Text,
        { ValueKind: JsonValueKind.String } text when text.ValueEquals("") => ResponseFormat.Text,
        { ValueKind: JsonValueKind.String } text when text.ValueEquals("json") => ResponseFormat.JsonObject,
        { ValueKind: JsonValueKind.Object } schema => ResponseFormat.JsonSchema(schema.GetRawText()),
        _ => throw Invalid("format", "'format' must be \"json\" or a JSON Schema object."),
    };

    private static ChatMessage ParseMessage(JsonElement message, int position, OllamaToolHistory history)
    {
        var param = $"messages[{position}]";
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(param, $"{param} must be an object with 'role' and 'content'.");
        }

        // Ollama reads roles in any case.
        var given = Optional(message, "role") is { ValueKind: JsonValueKind.String } r ? r.GetString()! : throw Invalid($"{param}.role", $"{param}.role must be a string.");
        var role = Array.Find(Roles, known => known.Equals(given, StringComparison.OrdinalIgnoreCase))
            ?? throw Invalid($"{param}.role", $"{param}.role must be 'system', 'user', 'assistant' or 'tool' (got '{given}').");
        if (Optional(message, "images") is { } images && !(images.ValueKind == JsonValueKind.Array && images.GetArrayLength() == 0))
        {
            throw Invalid($"{param}.images", $"{param}.images is not supported: {OnlyText}");
        }

        // An earlier answer's 'thinking' is not read: brains here never write one, and it is no part of what they are told.
        var content = Optional(message, "content") switch
        {
            null => "",
            { ValueKind: JsonValueKind.String } text => text.GetString()!,
            _ => throw Invalid($"{param}.content", $"{param}.content must be a string."),
        };

        return role switch
        {
            "tool" => new ChatMessage(role, [history.Answer(message, position, content)]),
            "assistant" when Optional(message, "tool_calls") is { } calls =>
                new ChatMessage(role, [.. content.Length > 0 ? [new TextContent(content)] : Array.Empty<ChatContent>(), .. history.Calls(calls, position)]),
            _ => new ChatMessage(role, content),
        };
    }

    /// <summary>Refuses a text field unless it is absent or empty (Go clients always send Ollama's text fields, empty when unset).</summary>
    private static void RefuseText(JsonElement root, string name, string why)
    {
        if (Optional(root, name) is { } value && !(value.ValueKind == JsonValueKind.String && value.ValueEquals("")))
        {
            throw Invalid(name, $"'{name}' is not supported: {why}");
        }
    }
}
