using Sios.Brains.Engines;
using Sios.Brains.Upstream;

namespace Sios.Brains.Pool;

/// <summary>How many brains a <see cref="BrainPool"/> keeps in memory, and how it sets up their engines.</summary>
public sealed record BrainPoolOptions
{
    /// <summary>
    /// Estimated bytes the resident weights may take: each distinct model file counts once however many brains
    /// share it, each adapter file once while its base stays loaded (llama.cpp keeps adapters with their base),
    /// and each loaded brain adds <see cref="PerBrainBytes"/>. An upstream brain takes nothing from this budget: its
    /// weights live on the operator's other host (it still counts toward <see cref="MaxLoaded"/>).
    /// </summary>
    public long MemoryBudgetBytes { get; init; } = 8L << 30;

    /// <summary>Most brains loaded at once (a LoRA specialist counts as one brain, its shared base does not add one; an upstream brain counts as one).</summary>
    public int MaxLoaded { get; init; } = 8;

    /// <summary>A brain unused for this long is unloaded; <see cref="Timeout.InfiniteTimeSpan"/> keeps brains until memory is needed.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Bytes added to each brain's estimate for its context and KV cache, which no file size shows.</summary>
    public long PerBrainBytes { get; init; }

    /// <summary>Engine settings for every brain; a brain's own context size and threads replace these.</summary>
    public LlamaEngineOptions Engine { get; init; } = new();

    /// <summary>
    /// The hosts upstream brains may be reached at. The default, an empty list, refuses every connection. An upstream
    /// brain whose host it does not permit fails to load, and each connection is vetted again as it is opened.
    /// </summary>
    public EgressAllowList Egress { get; init; } = new([]);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (MemoryBudgetBytes < 1)
        {
            throw new ArgumentException($"MemoryBudgetBytes must be positive (got {MemoryBudgetBytes}).", nameof(MemoryBudgetBytes));
        }

        if (MaxLoaded is < 1 or > 4096)
        {
            throw new ArgumentException($"MaxLoaded must be from 1 to 4096 (got {MaxLoaded}).", nameof(MaxLoaded));
        }

        if (KeepAlive <= TimeSpan.Zero && KeepAlive != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"KeepAlive must be positive or infinite (got {KeepAlive}).", nameof(KeepAlive));
        }

        if (PerBrainBytes < 0)
        {
            throw new ArgumentException($"PerBrainBytes cannot be negative (got {PerBrainBytes}).", nameof(PerBrainBytes));
        }

        ArgumentNullException.ThrowIfNull(Engine);
        Engine.Validate();
        ArgumentNullException.ThrowIfNull(Egress);
    }
}
