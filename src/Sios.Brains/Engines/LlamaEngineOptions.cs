namespace Sios.Brains.Engines;

/// <summary>How a llama.cpp engine is set up for one brain.</summary>
public sealed record LlamaEngineOptions
{
    /// <summary>Tokens one request may use (prompt plus answer); capped at the model's trained context.</summary>
    public int ContextSize { get; init; } = 2048;

    /// <summary>CPU threads for decoding.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Layers to offload to a GPU; this build is CPU-only, so anything but 0 is ignored by llama.cpp.</summary>
    public int GpuLayers { get; init; }

    /// <summary>Requests decoded together in one batch; further requests wait in FIFO order.</summary>
    public int MaxParallel { get; init; } = 4;

    /// <summary>Most tokens decoded in one llama.cpp call (prompt chunks are split to fit).</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>
    /// Whether a finished request's KV stays in its sequence for the next request of the same scope that starts with the
    /// same tokens (multi-turn chats decode only their new turn). Off: every request decodes its whole prompt.
    /// </summary>
    public bool PromptCache { get; init; } = true;

    /// <summary>A LoRA adapter applied on top of the base weights, or null.</summary>
    public string? LoraAdapterPath { get; init; }

    /// <summary>Strength of the LoRA adapter (1 = as trained).</summary>
    public float LoraScale { get; init; } = 1f;

    /// <summary>A chat template's text (Jinja) to render chats with instead of the model's own.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>The pinned digest of the weights, reported as <see cref="IBrainEngine.ModelDigest"/>.</summary>
    public string ModelDigest { get; init; } = string.Empty;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (ContextSize < 16)
        {
            throw new ArgumentException($"ContextSize must be at least 16 (got {ContextSize}).", nameof(ContextSize));
        }

        if (Threads < 1)
        {
            throw new ArgumentException($"Threads must be at least 1 (got {Threads}).", nameof(Threads));
        }

        if (GpuLayers < 0)
        {
            throw new ArgumentException($"GpuLayers cannot be negative (got {GpuLayers}).", nameof(GpuLayers));
        }

        if (MaxParallel is < 1 or > 64)
        {
            throw new ArgumentException($"MaxParallel must be between 1 and 64 (got {MaxParallel}).", nameof(MaxParallel));
        }

        if (BatchSize < 16)
        {
            throw new ArgumentException($"BatchSize must be at least 16 (got {BatchSize}).", nameof(BatchSize));
        }

        if (!float.IsFinite(LoraScale))
        {
            throw new ArgumentException("LoraScale must be a finite number.", nameof(LoraScale));
        }

        ArgumentNullException.ThrowIfNull(ModelDigest);
    }
}
