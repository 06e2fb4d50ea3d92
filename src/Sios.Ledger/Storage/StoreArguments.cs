using System.Runtime.CompilerServices;

namespace Sios.Ledger.Storage;

/// <summary>
/// What every <see cref="ILogStore"/> checks of its arguments before touching storage, in one place so that every
/// backend refuses the same malformed batch or checkpoint with the same words, and the checkpoint history read in pages.
/// </summary>
public static class StoreArguments
{
    /// <summary>The most bytes a tile holds: 256 hashes of 32 bytes.</summary>
    public const int MaxTileBytes = 256 * 32;

    /// <summary>Throws for a null batch, a negative start, or a tile that is not 1 to 256 hashes at non-negative coordinates.</summary>
    public static void Batch(LogBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(batch.Entries);
        ArgumentNullException.ThrowIfNull(batch.Tiles);
        ArgumentOutOfRangeException.ThrowIfNegative(batch.Start);
        foreach (var tile in batch.Tiles)
        {
            if (tile is null || tile.Hashes is null)
            {
                throw new ArgumentException("the batch holds a null tile or tile content", nameof(batch));
            }

            if (tile.Level < 0 || tile.Index < 0)
            {
                throw new ArgumentException($"tile ({tile.Level}, {tile.Index}) has a negative coordinate", nameof(batch));
            }

            if (tile.Hashes.Length == 0 || tile.Hashes.Length > MaxTileBytes || tile.Hashes.Length % 32 != 0)
            {
                throw new ArgumentException($"tile ({tile.Level}, {tile.Index}) holds {tile.Hashes.Length} bytes; a tile is 1 to 256 hashes of 32 bytes", nameof(batch));
            }
        }
    }

    /// <summary>Throws for a null checkpoint, a negative size or an empty note.</summary>
    public static void Checkpoint(StoredCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(checkpoint.Note);
        ArgumentOutOfRangeException.ThrowIfNegative(checkpoint.Size);
        if (checkpoint.Note.Length == 0)
        {
            throw new ArgumentException("the checkpoint note is empty; store the signed note bytes", nameof(checkpoint));
        }
    }

    /// <summary>
    /// The checkpoints of size at least <paramref name="fromSize"/>, read <paramref name="pageSize"/> at a time through
    /// <paramref name="readPage"/> (those from a size, in increasing size), so that a slow consumer never holds a
    /// store's snapshot or connection between pages.
    /// </summary>
    public static async IAsyncEnumerable<StoredCheckpoint> PagedCheckpointsAsync(
        long fromSize, int pageSize, Func<long, CancellationToken, Task<List<StoredCheckpoint>>> readPage, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromSize);
        ArgumentNullException.ThrowIfNull(readPage);
        var next = fromSize;
        while (true)
        {
            var page = await readPage(next, cancellationToken).ConfigureAwait(false);
            foreach (var checkpoint in page)
            {
                yield return checkpoint;
            }

            if (page.Count < pageSize)
            {
                yield break;
            }

            next = page[^1].Size + 1;
        }
    }
}
