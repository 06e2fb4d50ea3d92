namespace Sios.Ledger.Pipeline;

/// <summary>Tuning of the append pipeline.</summary>
public sealed class TransparencyLogOptions
{
    /// <summary>Entries that may wait for sequencing before appends are refused with backpressure.</summary>
    public int QueueCapacity { get; init; } = 65_536;

    /// <summary>Most entries sequenced in one durable batch.</summary>
    public int MaxBatchSize { get; init; } = 4_096;

    /// <summary>Extra time to wait for a batch to fill; zero batches whatever has queued (group commit).</summary>
    public TimeSpan BatchLinger { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Told of each checkpoint once it is durable, on the sequencer, before the waiters are released, and once more of
    /// the latest when the log closes (so an observer that skips some can catch up): it must be quick (it delays every
    /// append behind it), and its exceptions are ignored.
    /// </summary>
    public Action<PublishedCheckpoint>? Published { get; init; }

    /// <summary>
    /// The <see cref="TailSeals"/> key (derived from the master secret for <see cref="TailSeals.KeyPurpose"/>). Every batch
    /// is stored with its tag, and at recovery a durable tail past the last checkpoint is signed only if its tag verifies
    /// under this key. Null: batches carry no tag and any tail is refused, so a log opened without the key never signs
    /// rows it cannot tell from forged ones.
    /// </summary>
    public byte[]? TailKey { get; init; }

    /// <summary>
    /// Open the log as its only writer (<see cref="Storage.ILogStore.AcquireSoleWriterAsync"/>), refused while any other
    /// writer has it open: for what must not run beside other nodes, such as a signer rotation.
    /// </summary>
    public bool SoleWriter { get; init; }
}

/// <summary>A checkpoint the log has signed and made durable.</summary>
/// <param name="Size">Tree size.</param>
/// <param name="Root">Root hash at that size.</param>
/// <param name="Note">The signed note bytes, verbatim.</param>
public sealed record PublishedCheckpoint(long Size, byte[] Root, byte[] Note);

/// <summary>A sealed entry: its index, and the first signed checkpoint that covers it.</summary>
/// <param name="Index">The entry's index in the log.</param>
/// <param name="Checkpoint">A durable signed checkpoint whose tree includes the entry.</param>
public sealed record AppendResult(long Index, PublishedCheckpoint Checkpoint);
