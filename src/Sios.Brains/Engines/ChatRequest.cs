namespace Sios.Brains.Engines;

/// <summary>The shape the answer must take.</summary>
public abstract record ResponseFormat
{
    private ResponseFormat()
    {
    }

    /// <summary>Free text (no constraint).</summary>
    public static ResponseFormat Text { get; } = new TextFormat();

    /// <summary>Any single JSON object.</summary>
    public static ResponseFormat JsonObject { get; } = new JsonObjectFormat();

    /// <summary>JSON that follows <paramref name="schema"/> (a JSON Schema document as text).</summary>
    public static ResponseFormat JsonSchema(string schema) => new JsonSchemaFormat(schema);

    /// <summary>Free text.</summary>
    public sealed record TextFormat : ResponseFormat;

    /// <summary>Any JSON object.</summary>
    public sealed record JsonObjectFormat : ResponseFormat;

    /// <summary>JSON following a schema.</summary>
    /// <param name="Schema">The JSON Schema document.</param>
    public sealed record JsonSchemaFormat(string Schema) : ResponseFormat;
}

/// <summary>A chat completion request: the conversation and how to sample the answer.</summary>
public sealed record ChatRequest
{
    /// <summary>The conversation so far, oldest first (empty when <see cref="Prompt"/> is set).</summary>
    public IReadOnlyList<ChatMessage> Messages { get; init; } = [];

    /// <summary>
    /// Raw text to continue, without the chat template (the legacy completions API). Control-token text in it is
    /// read as plain text, so a caller cannot forge turns. Null for a chat.
    /// </summary>
    public string? Prompt { get; init; }

    /// <summary>Most tokens to generate; reaching it ends with <see cref="FinishReason.Length"/>.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>
    /// Whose cached prompt prefixes the request may reuse (and leave for the next): the gateway gives each API key its
    /// own, so one key's prompts never speed up, or show through the timing of, another's. Null reuses and keeps none.
    /// </summary>
    public string? CacheScope { get; init; }

    /// <summary>Sampling temperature; 0 picks the most likely token every time.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Nucleus sampling mass (1 disables it).</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Seed of the sampler; the same seed, model and request give the same answer. Null picks one at random.</summary>
    public uint? Seed { get; init; }

    /// <summary>Strings that end the answer when generated; they are not part of the answer.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>The required shape of the answer.</summary>
    public ResponseFormat ResponseFormat { get; init; } = ResponseFormat.Text;

    /// <summary>The functions the model may call (none by default).</summary>
    public IReadOnlyList<ToolDefinition> Tools { get; init; } = [];

    /// <summary>Whether and which tools must be called; only meaningful with <see cref="Tools"/>.</summary>
    public ToolMode ToolMode { get; init; } = ToolMode.Auto;

    /// <summary>Whether one answer may hold several calls.</summary>
    public bool ParallelToolCalls { get; init; } = true;

    /// <summary>Most tools one request may offer (OpenAI's own limit).</summary>
    public const int MaxTools = 128;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (Prompt is not null)
        {
            if (Messages is null || Messages.Count != 0)
            {
                throw new ArgumentException("A request has either a prompt or messages, not both.", nameof(Prompt));
            }
        }
        else if (Messages is null || Messages.Count == 0)
        {
            throw new ArgumentException("A chat request needs at least one message.", nameof(Messages));
        }

        foreach (var m in Messages)
        {
            if (m is null || string.IsNullOrEmpty(m.Role) || m.Contents is null || m.Contents.Any(c => c is null))
            {
                throw new ArgumentException("Every message needs a role and a content (which may be empty).", nameof(Messages));
            }
        }

        ValidateTools();

        if (MaxTokens < 1)
        {
            throw new ArgumentException($"max_tokens must be at least 1 (got {MaxTokens}).", nameof(MaxTokens));
        }

        if (!float.IsFinite(Temperature) || Temperature < 0 || Temperature > 10)
        {
            throw new ArgumentException($"temperature must be between 0 and 10 (got {Temperature}).", nameof(Temperature));
        }

        if (!float.IsFinite(TopP) || TopP <= 0 || TopP > 1)
        {
            throw new ArgumentException($"top_p must be in (0, 1] (got {TopP}).", nameof(TopP));
        }

        if (Stop is null || Stop.Count > 16 || Stop.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("stop takes at most 16 non-empty strings.", nameof(Stop));
        }

        ArgumentNullException.ThrowIfNull(ResponseFormat);
    }

    private void ValidateTools()
    {
        if (Tools is null || Tools.Count > MaxTools)
        {
            throw new ArgumentException($"tools takes at most {MaxTools} functions.", nameof(Tools));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tool in Tools)
        {
            if (tool is null || !ToolDefinition.IsValidName(tool.Name) || tool.Parameters is null)
            {
                throw new ArgumentException("Every tool needs a name of 1 to 64 letters, digits, '_' or '-', and a parameters schema.", nameof(Tools));
            }

            if (!names.Add(tool.Name))
            {
                throw new ArgumentException($"The tool '{tool.Name}' is defined twice.", nameof(Tools));
            }
        }

        switch (ToolMode)
        {
            case null:
                throw new ArgumentException("tool_choice must be set.", nameof(ToolMode));
            case ToolMode.RequiredMode when Tools.Count == 0:
                throw new ArgumentException("tool_choice 'required' needs at least one tool.", nameof(ToolMode));
            case ToolMode.NamedMode named when !names.Contains(named.Name):
                throw new ArgumentException($"tool_choice names the function '{named.Name}', which is not among the tools.", nameof(ToolMode));
        }

        if (Prompt is not null && Tools.Count > 0)
        {
            throw new ArgumentException("Tools are offered in chats, not to raw completions.", nameof(Tools));
        }

        // Templates are handed a call's arguments as an object: whatever door read the history, they must be one.
        foreach (var call in Messages.SelectMany(m => m.Calls))
        {
            if (!IsJsonObject(call.Arguments))
            {
                throw new ArgumentException($"The arguments of the call '{call.CallId}' in the history are not a JSON object.", nameof(Messages));
            }
        }
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var parsed = System.Text.Json.JsonDocument.Parse(text, new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 });
            return parsed.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>The model ended its turn or a stop sequence was generated.</summary>
    Stop,

    /// <summary>max_tokens (or the context window) was reached.</summary>
    Length,

    /// <summary>The model called one or more tools and waits for their results.</summary>
    ToolCalls,
}

/// <summary>Token counts of one request.</summary>
/// <param name="PromptTokens">Tokens of the templated prompt.</param>
/// <param name="CompletionTokens">Tokens generated (the end-of-turn token is not counted).</param>
/// <param name="CachedTokens">Prompt tokens whose KV was reused from an earlier request of the same scope, not decoded again.</param>
public sealed record Usage(int PromptTokens, int CompletionTokens, int CachedTokens = 0)
{
    /// <summary>Prompt plus completion tokens.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// One streamed step: a text delta, a piece of a tool call, a completed tool call, or (last) the finish reason with the usage. Exactly one
/// update of a stream has <see cref="FinishReason"/> set, and it is the final one.
/// </summary>
/// <param name="Text">New answer text (empty on the final update when nothing was pending).</param>
/// <param name="FinishReason">Set on the final update only.</param>
/// <param name="Usage">Set on the final update only.</param>
/// <param name="Call">A tool call completed at this step, or null; calls arrive in the order they were made, all of them
/// just before the final update.</param>
/// <param name="CallDelta">A piece of a call being generated, or null: engines that can show calls as they come send these
/// before the complete calls; a stream shows them, a whole answer waits for the calls.</param>
/// <remarks>
/// <see cref="Usage"/> on the final update is the answer's usage; on an earlier one, when the engine knows it, the usage so
/// far (what a client that leaves now has cost).
/// </remarks>
public sealed record GenerationUpdate(string Text, FinishReason? FinishReason = null, Usage? Usage = null, FunctionCallContent? Call = null, FunctionCallDelta? CallDelta = null)
{
    /// <summary>Whether this is the final update of the stream.</summary>
    public bool IsFinal => FinishReason is not null;
}
