using Sios.Ledger.Proofs;
using Sios.Ledger.Storage;
using Sios.Verify.Notes;
using Sios.Verify.Rotation;

namespace Sios.Node;

/// <summary>
/// Reads a stored log's key changes as the log itself records them: signer.rotated entries under checkpoints signed by
/// old and new keys, and signer.added entries under the first checkpoint the added Ed25519 key signs.
/// </summary>
internal static class RotationHistory
{
    private const int Chunk = 1_024;

    /// <summary>
    /// Follows the rotations and key additions sealed under <paramref name="checkpoint"/>, whose predecessor covered <paramref name="from"/>
    /// entries. Only a checkpoint carrying signatures by keys of this log the chain does not yet trust can seal one, so
    /// only then are its new entries searched; a statement the chain refuses throws <see cref="Sios.Verify.VerificationException"/>.
    /// </summary>
    public static async Task FollowAsync(ILogReader store, SignerKeyChain chain, StoredCheckpoint checkpoint, long from, CancellationToken ct)
    {
        var trusted = chain.KeysAt(checkpoint.Size);
        var note = SignedNote.Parse(checkpoint.Note);
        if (!note.Signatures.Any(s => string.Equals(s.KeyName, chain.Origin, StringComparison.Ordinal) && !trusted.Any(k => k.KeyId == s.KeyId)))
        {
            return;
        }

        for (var start = from; start < checkpoint.Size; start += Chunk)
        {
            var count = (int)Math.Min(Chunk, checkpoint.Size - start);
            var entries = await store.ReadEntriesAsync(start, count, ct).ConfigureAwait(false);
            for (var i = 0; i < entries.Count; i++)
            {
                if (SignerRotatedEntry.IsRotation(entries[i]))
                {
                    chain.Follow(await LogProofs.ReceiptAsync(store, start + i, checkpoint, ct).ConfigureAwait(false));
                }
                else if (SignerAddedEntry.IsAddition(entries[i]))
                {
                    chain.Add(await LogProofs.ReceiptAsync(store, start + i, checkpoint, ct).ConfigureAwait(false));
                }
            }
        }
    }

    /// <summary>The chain from <paramref name="original"/> through every rotation in the stored log.</summary>
    public static async Task<SignerKeyChain> ReadAsync(ILogReader store, IReadOnlyList<VerifierKey> original, CancellationToken ct)
    {
        var chain = new SignerKeyChain(original);
        long previous = 0;
        await foreach (var stored in store.ReadCheckpointsAsync(0, ct).ConfigureAwait(false))
        {
            await FollowAsync(store, chain, stored, previous, ct).ConfigureAwait(false);
            previous = stored.Size;
        }

        return chain;
    }

    /// <summary>
    /// The signer history a serving node offers at /log/signers: followed from the original keys on first use, then
    /// only through checkpoints stored since, one reader at a time (a failed read is not kept).
    /// </summary>
    public static Func<CancellationToken, Task<Server.Hosting.SignerHistory>> Serving(ILogReader store, IReadOnlyList<VerifierKey> original)
    {
        var gate = new SemaphoreSlim(1, 1);
        SignerKeyChain? chain = null;
        long followed = 0;
        return async ct =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var next = chain ?? new SignerKeyChain(original);
                var previous = followed;
                await foreach (var stored in store.ReadCheckpointsAsync(previous + 1, ct).ConfigureAwait(false))
                {
                    await FollowAsync(store, next, stored, previous, ct).ConfigureAwait(false);
                    previous = stored.Size;
                }

                (chain, followed) = (next, previous);
                return new Server.Hosting.SignerHistory(
                    [.. next.OriginalKeys.Select(k => k.ToString())],
                    [.. next.SigningKeys.Select(k => k.ToString())],
                    [.. next.Statements.Select(st => (st.Index, st.Receipt))],
                    [.. next.AddedSigners.Select(a => (a.FromSize, a.Key.ToString()))]);
            }
            catch
            {
                // A chain left half-followed would refuse the statements it already took: start over next time.
                (chain, followed) = (null, 0);
                throw;
            }
            finally
            {
                gate.Release();
            }
        };
    }
}
