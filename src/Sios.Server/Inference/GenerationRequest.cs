using Sios.Brains.Engines;
using Sios.Brains.Registry;
using Sios.Brains.Tools;

namespace Sios.Server.Inference;

/// <summary>
/// A generation request as a door read it, whatever its API: the brain, the text, and only the settings the client
/// chose. A door that needs more for its answers (a stored response's options) derives from it.
/// </summary>
internal record GenerationRequest
{
    public required string Model { get; init; }

    public IReadOnlyList<ChatMessage> Messages { get; init; } = [];

    public string? Prompt { get; init; }

    public int? MaxTokens { get; init; }

    public float? Temperature { get; init; }

    public float? TopP { get; init; }

    public uint? Seed { get; init; }

    public IReadOnlyList<string>? Stop { get; init; }

    public ResponseFormat Format { get; init; } = ResponseFormat.Text;

    public bool Stream { get; init; }

    public bool IncludeUsage { get; init; }

    public ToolRequest Tools { get; init; } = ToolRequest.None;

    /// <summary>The engine request: the client's settings where given, the brain's defaults elsewhere, the brain's system prompt first.</summary>
    public ChatRequest ToEngineRequest(BrainManifest brain)
    {
        var defaults = brain.Sampling;
        var messages = Messages;
        if (Prompt is null && brain.SystemPrompt is { } system)
        {
            messages = [new ChatMessage("system", system), .. messages];
        }

        var request = new ChatRequest
        {
            Messages = messages,
            Prompt = Prompt,
            MaxTokens = MaxTokens ?? defaults.MaxTokens ?? 256,
            Temperature = Temperature ?? defaults.Temperature ?? 0.8f,
            TopP = TopP ?? defaults.TopP ?? 1f,
            Seed = Seed ?? defaults.Seed,
            Stop = Stop ?? defaults.Stop,
            ResponseFormat = Format,
            Tools = Tools.Tools,
            ToolMode = Tools.Mode,
            ParallelToolCalls = Tools.Parallel,
        };
        request.Validate();
        return request;
    }
}

/// <summary>An embeddings request (a door that needs more for its answer derives from it).</summary>
internal record EmbeddingsRequest(string Model, IReadOnlyList<string> Inputs, bool Base64);

/// <summary>The tools of a chat request and how they may be called, as the client asked.</summary>
internal sealed record ToolRequest(IReadOnlyList<ToolDefinition> Tools, ToolMode Mode, bool Parallel)
{
    public static ToolRequest None { get; } = new([], ToolMode.None, true);

    /// <summary>
    /// The position of the first tool result in <paramref name="messages"/> that answers no call made before it, or
    /// null when every result answers one: a result of no call would be a turn the client wrote for the model.
    /// </summary>
    public static int? UnansweredResult(IReadOnlyList<ChatMessage> messages)
    {
        var calls = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < messages.Count; i++)
        {
            foreach (var call in messages[i].Calls)
            {
                calls.Add(call.CallId);
            }

            if (messages[i].Result is { } result && !calls.Contains(result.CallId))
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>
    /// The tools a door read, each schema checked to become a grammar: the grammar is what a call must follow, so a
    /// schema that cannot become one is refused here, for every kind of brain and through every door.
    /// </summary>
    /// <exception cref="Http.ApiException">A 400 naming <paramref name="param"/> and the tool.</exception>
    public static ToolRequest Checked(IReadOnlyList<ToolDefinition> tools, ToolMode mode, bool parallel, string param = "tools")
    {
        if (tools.Count > 0 && mode is not ToolMode.NoneMode)
        {
            try
            {
                _ = ToolCallFormat.Generic.Grammar(tools, parallel);
            }
            catch (ArgumentException e)
            {
                throw Http.JsonFields.Invalid(param, e.Message);
            }
        }

        return new ToolRequest(tools, mode, parallel);
    }
}
