using Sios.Ledger.Storage;
using Sios.Verify.Receipts;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Proofs;

/// <summary>Builds receipts and consistency proofs from a stored log's tiles (what any tlog-tiles client could do).</summary>
public static class LogProofs
{
    /// <summary>The <c>.tlog-proof</c> receipt for entry <paramref name="index"/> against the latest stored checkpoint.</summary>
    public static async Task<byte[]> ReceiptAsync(ILogReader store, long index, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var latest = await store.GetLatestCheckpointAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new LogEmptyException("the log has no signed checkpoint yet");
        return await ReceiptAsync(store, index, latest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The receipt for entry <paramref name="index"/> against <paramref name="checkpoint"/>.</summary>
    public static async Task<byte[]> ReceiptAsync(ILogReader store, long index, StoredCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (index < 0 || index >= checkpoint.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"entry {index} is not in the log: the latest checkpoint covers entries 0 to {checkpoint.Size - 1}");
        }

        var entries = await store.ReadEntriesAsync(index, 1, cancellationToken).ConfigureAwait(false);
        if (entries.Count != 1)
        {
            throw new Pipeline.LogIntegrityException($"entry {index} is missing from the store although a checkpoint covers it");
        }

        var tree = new TiledTree(new StoreLogSource(store), checkpoint.Size);
        var proof = await tree.InclusionProofAsync(index, cancellationToken).ConfigureAwait(false);
        return new TlogProof(entries[0], index, proof, checkpoint.Note).ToBytes();
    }

    /// <summary>The RFC 9162 consistency proof from size <paramref name="from"/> to <paramref name="to"/> (at most the latest checkpoint).</summary>
    public static async Task<IReadOnlyList<byte[]>> ConsistencyAsync(ILogReader store, long from, long to, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var latest = await store.GetLatestCheckpointAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new LogEmptyException("the log has no signed checkpoint yet");
        if (from < 0 || to < from || to > latest.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(from), $"a consistency proof needs 0 <= from <= to <= {latest.Size} (the latest checkpoint); got from {from}, to {to}");
        }

        return await new TiledTree(new StoreLogSource(store), to).ConsistencyProofAsync(from, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The log has no signed checkpoint yet.</summary>
public sealed class LogEmptyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LogEmptyException(string message) : base(message) { }

    /// <summary>Creates the exception with no detail.</summary>
    public LogEmptyException() { }

    /// <summary>Creates the exception with a cause.</summary>
    public LogEmptyException(string message, Exception inner) : base(message, inner) { }
}
