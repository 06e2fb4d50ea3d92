using Sios.Verify;
using Sios.Verify.Audit;
using Sios.Verify.Merkle;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Storage;

/// <summary>Presents a stored log as tlog-tiles resources (hash tiles and entry bundles) for proofs and audits.</summary>
public sealed class StoreLogSource(ILogReader store) : ILogSource
{
    /// <summary>Returns the first <paramref name="width"/> hashes of a stored tile, or fails naming the tile.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadTileAsync(int level, long index, int width, CancellationToken cancellationToken)
    {
        var stored = await store.ReadTileAsync(level, index, cancellationToken).ConfigureAwait(false);
        var needed = width * Rfc6962.HashSize;
        if (stored is null || stored.Length < needed)
        {
            throw new VerificationException($"{TilePath.Tile(level, index, width)} is missing from the store (it holds {(stored?.Length ?? 0) / Rfc6962.HashSize} hashes)");
        }

        return stored.AsMemory(0, needed);
    }

    /// <summary>Builds an entry bundle from stored entries; a short read yields a short bundle the reader rejects.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadEntryBundleAsync(long index, int width, CancellationToken cancellationToken)
    {
        var entries = await store.ReadEntriesAsync(index * TilePath.FullWidth, width, cancellationToken).ConfigureAwait(false);
        return EntryBundle.Encode(entries);
    }
}
