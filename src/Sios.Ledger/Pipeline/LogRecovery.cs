using Sios.Ledger.Checkpoints;
using Sios.Ledger.Merkle;
using Sios.Ledger.Storage;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Pipeline;

/// <summary>
/// Start-up recovery: the stored tiles must reproduce the last signed checkpoint exactly, or the log refuses to
/// run. A tail of durable entries past it (a crash between the batch write and the checkpoint write) is
/// re-derived from the entries themselves, checked against its stored tiles and its tail seal, and only then signed:
/// a tail whose seal does not vouch for the tree it rebuilds was not sequenced by this log, and is refused.
/// </summary>
internal static class LogRecovery
{
    private const int ChunkSize = 4_096;

    public static async Task<(TreeBuilder Builder, PublishedCheckpoint Latest)> RecoverAsync(ILogStore store, LogSigner signer, byte[]? tailKey, CancellationToken ct)
    {
        var stored = await store.GetStoredSizeAsync(ct).ConfigureAwait(false);
        var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false);
        var source = new StoreLogSource(store);

        long size = 0;
        var root = Rfc6962.EmptyRoot.ToArray();
        if (latest is not null)
        {
            VerifiedCheckpoint verified;
            try
            {
                verified = new CheckpointVerifier(signer.Origin, RecoveryKeys(signer, latest.Note)).Verify(latest.Note);
            }
            catch (VerificationException e)
            {
                throw new LogIntegrityException($"the last stored checkpoint (size {latest.Size}) does not verify under this log's keys: {e.Message}", e);
            }

            if (verified.Checkpoint.Size != latest.Size)
            {
                throw new LogIntegrityException($"the last stored checkpoint is filed under size {latest.Size} but its note says {verified.Checkpoint.Size}");
            }

            if (stored < latest.Size)
            {
                throw new LogIntegrityException($"the store holds {stored} entries but its last signed checkpoint covers {latest.Size}: entries were lost or removed");
            }

            (size, root) = (latest.Size, verified.Checkpoint.Root);
        }

        TreeBuilder builder;
        try
        {
            builder = await TreeBuilder.LoadAsync(size, source, ct).ConfigureAwait(false);
        }
        catch (VerificationException e)
        {
            throw new LogIntegrityException($"the stored tiles cannot be read at size {size}: {e.Message}", e);
        }

        if (!builder.Root().AsSpan().SequenceEqual(root))
        {
            throw new LogIntegrityException(
                $"the stored tiles give root {Convert.ToBase64String(builder.Root())} at size {size}, but the last signed checkpoint says {Convert.ToBase64String(root)}: the stored log was altered (run 'sios log verify' to find where)");
        }

        if (latest is not null && stored == size)
        {
            return (builder, new PublishedCheckpoint(size, root, latest.Note));
        }

        await ReplayTailAsync(store, builder, stored, ct).ConfigureAwait(false);
        var newRoot = builder.Root();
        var seal = await store.ReadTailSealAsync(ct).ConfigureAwait(false);
        if (stored > size && (tailKey is not { } key || !TailSeals.Authenticates(seal, key, signer.Origin, stored, newRoot)))
        {
            throw new LogIntegrityException(LogTail.Unauthenticated(size, stored, seal, tailKey is not null));
        }

        var note = signer.Sign(stored, newRoot);
        await store.WriteCheckpointAsync(new StoredCheckpoint(stored, note), ct).ConfigureAwait(false);
        return (builder, new PublishedCheckpoint(stored, newRoot, note));
    }

    /// <summary>
    /// The keys the last stored checkpoint must verify under: the post-quantum pair always; the Ed25519 key too when the
    /// note carries a line by it, so a forged or damaged Ed25519 line stops the log. A note without that line is let
    /// through here: the last checkpoint may predate the key's addition (the addition itself opens the log over one),
    /// and only the log's history says when the line became due; 'sios log verify' follows that history
    /// (<c>signer.added</c>) and reports any later checkpoint that lacks it, and every checkpoint signed from now on
    /// carries it.
    /// </summary>
    internal static IReadOnlyList<Verify.Notes.VerifierKey> RecoveryKeys(LogSigner signer, byte[] note)
    {
        if (signer.Ed25519Key is not { } ed25519)
        {
            return signer.VerifierKeys;
        }

        var carried = Verify.Notes.SignedNote.Parse(note).Signatures.Any(s => s.KeyId == ed25519.KeyId && string.Equals(s.KeyName, ed25519.Name, StringComparison.Ordinal));
        return carried ? [.. signer.VerifierKeys, ed25519] : signer.VerifierKeys;
    }

    /// <summary>Appends the stored entries [builder.Size, <paramref name="stored"/>) to <paramref name="builder"/>, checking each tile they change against the store.</summary>
    public static async Task ReplayTailAsync(ILogReader store, TreeBuilder builder, long stored, CancellationToken ct)
    {
        while (builder.Size < stored)
        {
            var count = (int)Math.Min(ChunkSize, stored - builder.Size);
            var start = builder.Size;
            var entries = await store.ReadEntriesAsync(start, count, ct).ConfigureAwait(false);
            if (entries.Count != count)
            {
                throw new LogIntegrityException($"entry {start + entries.Count} is missing from the unsigned tail of the store");
            }

            var tiles = builder.Append(entries.Select(e => Rfc6962.LeafHash(e)).ToList());
            foreach (var tile in tiles)
            {
                var have = await store.ReadTileAsync(tile.Level, tile.Index, ct).ConfigureAwait(false);
                if (have is null || have.Length < tile.Hashes.Length || !have.AsSpan(0, tile.Hashes.Length).SequenceEqual(tile.Hashes))
                {
                    var width = tile.Hashes.Length / Rfc6962.HashSize;
                    throw new LogIntegrityException($"{TilePath.Tile(tile.Level, tile.Index, width)} disagrees with the entries in the unsigned tail of the store");
                }
            }
        }
    }
}
