namespace Sios.Brains.Engines;

/// <summary>
/// A loaded brain that answers chats and embeds text. Implementations are safe to call concurrently; how they
/// share the model between requests is theirs to decide.
/// </summary>
public interface IBrainEngine : IAsyncDisposable
{
    /// <summary>The digest of the weights this engine runs, as pinned by the caller (the engine does not compute it).</summary>
    string ModelDigest { get; }

    /// <summary>
    /// Streams the answer to <paramref name="request"/>: text deltas, then one final update with the finish reason
    /// and usage. Cancelling <paramref name="ct"/> (or abandoning the enumeration) stops generation promptly.
    /// </summary>
    IAsyncEnumerable<GenerationUpdate> GenerateAsync(ChatRequest request, CancellationToken ct);

    /// <summary>One L2-normalised embedding per input, each as long as the model's embedding width.</summary>
    Task<EmbeddingResult> EmbedAsync(IReadOnlyList<string> inputs, CancellationToken ct);
}

/// <summary>Embeddings with what they cost.</summary>
/// <param name="Vectors">One L2-normalised vector per input, in input order.</param>
/// <param name="PromptTokens">Tokens read to make them; null when the engine cannot know (an upstream that does not say).</param>
public sealed record EmbeddingResult(float[][] Vectors, int? PromptTokens);
