namespace Sios.Ledger.Storage;

/// <summary>
/// Read access to a stored log. Implementations must be safe to call from many threads at once and may be
/// used while a writer (possibly in another process) appends.
/// </summary>
public interface ILogReader
{
    /// <summary>Number of entries durably stored. May exceed the latest checkpoint's size after a crash.</summary>
    Task<long> GetStoredSizeAsync(CancellationToken cancellationToken = default);

    /// <summary>The newest stored signed checkpoint (note bytes, verbatim), or null for a log never checkpointed.</summary>
    Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken = default);

    /// <summary>Every stored checkpoint with size at least <paramref name="fromSize"/>, in increasing size.</summary>
    IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(long fromSize, CancellationToken cancellationToken = default);

    /// <summary>
    /// The stored hashes of hash tile (<paramref name="level"/>, <paramref name="index"/>): between 1 and 256
    /// concatenated 32-byte hashes (a partial tile holds a prefix of its final content), or null if absent.
    /// </summary>
    Task<byte[]?> ReadTileAsync(int level, long index, CancellationToken cancellationToken = default);

    /// <summary>
    /// The entries with indices [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>),
    /// in order. Returns fewer when the log holds fewer; never skips an index silently (a gap ends the list).
    /// </summary>
    Task<IReadOnlyList<byte[]>> ReadEntriesAsync(long start, int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// The <see cref="LogBatch.TailSeal"/> of the newest batch written, with the stored size it was written at, or null
    /// when none was stored (a log that never wrote a sealed batch, or one whose tail was discarded).
    /// </summary>
    Task<TailSeal?> ReadTailSealAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A log store: the narrow surface the append pipeline needs. Durability contract:
/// <list type="bullet">
/// <item><see cref="AcquireWriterAsync"/> must be called once before any write; it makes this instance the only
/// writer of the log across all processes until disposal, or throws <see cref="LogInUseException"/>.</item>
/// <item><see cref="WriteBatchAsync"/> is atomic and durable: when it returns, every entry and tile in the batch
/// survives power loss; if it throws, none of it is visible, now or after a restart.</item>
/// <item><see cref="WriteCheckpointAsync"/> is durable on return; it is only called for a tree whose entries and
/// tiles a previous <see cref="WriteBatchAsync"/> made durable, so no signed checkpoint ever covers
/// data that could be lost. The store records with each new checkpoint the size of the one stored before it
/// (<see cref="StoredCheckpoint.Previous"/>), so the history of checkpoints is a chain an audit can walk.</item>
/// <item>A failure of either write leaves the writer unusable: the pipeline stops and recovers at restart.</item>
/// <item>A store whose log several writers share (<see cref="SharedWriters"/>, e.g. nodes on one database) lets them write
/// in turns (<see cref="TakeTurnAsync"/>): within a turn no other writer writes, so a writer that finds the log grown
/// since its last turn catches up from the store before it writes. A write made outside a turn is a turn of its own.
/// A store with one writer for its life keeps the defaults: its writer's turn never ends.</item>
/// </list>
/// </summary>
public interface ILogStore : ILogReader, IAsyncDisposable
{
    /// <summary>
    /// Makes this instance a writer of the log: the only one across all processes until disposal for a store with one
    /// writer, one of several for a <see cref="SharedWriters"/> store; throws <see cref="LogInUseException"/> when refused
    /// (another writer holds the log, or, on a shared store, one holds it as its sole writer).
    /// </summary>
    Task AcquireWriterAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes this instance the log's only writer until disposal, even on a <see cref="SharedWriters"/> store (for what must
    /// not run beside any other writer: a signer rotation, a tail discard), or throws <see cref="LogInUseException"/>.
    /// </summary>
    Task AcquireSoleWriterAsync(CancellationToken cancellationToken = default) => AcquireWriterAsync(cancellationToken);

    /// <summary>Whether other writers may write this log between this writer's turns.</summary>
    bool SharedWriters => false;

    /// <summary>
    /// Waits for this writer's turn and holds it until the result is disposed; throws <see cref="Pipeline.LogBackpressureException"/>
    /// when another writer holds it too long. For a store with one writer, returns at once.
    /// </summary>
    Task<IAsyncDisposable> TakeTurnAsync(CancellationToken cancellationToken = default) => Task.FromResult<IAsyncDisposable>(NoTurn.Instance);

    /// <summary>
    /// After a failed write on a <see cref="SharedWriters"/> store: drops this writer's session (and any turn it held) and
    /// joins the log's writers again, so the node resumes once the store is back; the caller must then catch up from the
    /// store before it writes, since the failed write may or may not have landed. Throws while the store is unreachable.
    /// A store with one writer for its life cannot rejoin: it is reopened and recovered instead.
    /// </summary>
    Task RejoinAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("a store with one writer is reopened and recovered after a failed write, not rejoined");

    /// <summary>Atomically and durably appends <paramref name="batch"/>'s entries and replaces its tiles.</summary>
    Task WriteBatchAsync(LogBatch batch, CancellationToken cancellationToken = default);

    /// <summary>Durably records a signed checkpoint; its size is never below that of an earlier one.</summary>
    Task WriteCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>
    /// Atomically and durably removes every entry at index <paramref name="size"/> and beyond, cuts the tiles back to
    /// exactly those of a tree of <paramref name="size"/> entries (<see cref="Sios.Verify.Tiles.TilePath.FullTileCount"/> full tiles and one partial tile of <see cref="Sios.Verify.Tiles.TilePath.PartialWidth"/> hashes per level), and forgets the tail
    /// seal. Refused (<see cref="InvalidOperationException"/>, nothing changed) when a stored checkpoint covers more
    /// than <paramref name="size"/> entries: a signed entry is never removed.
    /// </summary>
    Task DiscardTailAsync(long size, CancellationToken cancellationToken = default);
}

/// <summary>
/// The authenticator stored with the newest batch: <see cref="Tag"/> vouches for the tree of <see cref="Size"/> entries
/// (see <see cref="Pipeline.TailSeals"/>), so that entries a crash left durable but unsigned can be told from rows
/// someone added to the store by hand.
/// </summary>
/// <param name="Size">The stored size after the batch.</param>
/// <param name="Tag">The opaque authenticator the pipeline computed.</param>
public sealed record TailSeal(long Size, byte[] Tag);

/// <summary>A signed checkpoint as stored: its tree size and the signed note bytes, verbatim.</summary>
/// <param name="Size">Tree size the checkpoint commits to.</param>
/// <param name="Note">The signed note, exactly as served.</param>
public sealed record StoredCheckpoint(long Size, byte[] Note)
{
    /// <summary>The value of <see cref="Previous"/> for the first checkpoint a log stored.</summary>
    public const long First = -1;

    /// <summary>
    /// The size of the checkpoint stored just before this one when it was first stored (<see cref="First"/> for the
    /// log's first), set by the store and ignored on writes. Signed notes carry no link to each other (SPEC: no
    /// extension lines), so without this a deleted historical checkpoint would leave no trace; with it, a deleted or
    /// moved row breaks the chain. Null from a reader that does not record it.
    /// </summary>
    public long? Previous { get; init; }
}

/// <summary>A tile's new content (the whole stored prefix, not a delta).</summary>
/// <param name="Level">Tile level (0 = leaf hashes).</param>
/// <param name="Index">Tile index within the level.</param>
/// <param name="Hashes">Concatenated 32-byte hashes, 1 to 256 of them.</param>
public sealed record TileWrite(int Level, long Index, byte[] Hashes);

/// <summary>One sequenced batch: entries taking indices from <see cref="Start"/>, and the tiles they changed.</summary>
/// <param name="Start">Index of the first entry; equals the stored size before the batch.</param>
/// <param name="Entries">The entry bytes, in index order.</param>
/// <param name="Tiles">Every tile whose content changed.</param>
public sealed record LogBatch(long Start, IReadOnlyList<ReadOnlyMemory<byte>> Entries, IReadOnlyList<TileWrite> Tiles)
{
    /// <summary>
    /// The authenticator of the tree after this batch, stored in the same transaction (replacing the previous one), or
    /// null to store none. The store keeps it opaque: only the pipeline computes and checks it.
    /// </summary>
    public byte[]? TailSeal { get; init; }
}

/// <summary>The turn of a writer that never shares its log: nothing to release.</summary>
internal sealed class NoTurn : IAsyncDisposable
{
    public static readonly NoTurn Instance = new();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Another process holds this log's writer lock.</summary>
public sealed class LogInUseException : Exception
{
    /// <summary>Creates the exception naming the holder.</summary>
    public LogInUseException(string message) : base(message) { }

    /// <summary>Creates the exception with no message.</summary>
    public LogInUseException() { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public LogInUseException(string message, Exception inner) : base(message, inner) { }
}
