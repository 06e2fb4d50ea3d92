using System.Buffers.Binary;
using System.Security.Cryptography;
using Sios.Ledger.Entries;
using Sios.Ledger.Pipeline;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Ledger.Durable;
using Sios.Verify.Entries;

namespace Sios.Node;

/// <summary>What <see cref="LogRepair.DiscardTailAsync"/> found and did.</summary>
/// <param name="From">The first index past the last signed checkpoint.</param>
/// <param name="Count">Entries past it.</param>
/// <param name="Authenticated">True when they are this log's own (nothing discarded: the next start signs them).</param>
/// <param name="SealedAt">The index of the sealed <c>log.tail.discarded</c>, when entries were discarded.</param>
internal sealed record TailDiscard(long From, long Count, bool Authenticated, long? SealedAt);

/// <summary>
/// The operator's way out when the store holds entries past its last signed checkpoint that this log did not write
/// (rows added by hand, or damage). They were never acknowledged: no answer leaves before the checkpoint covering it, so
/// removing them takes nothing a client holds. They are kept aside for forensics, and the removal itself is sealed.
/// </summary>
internal static class LogRepair
{
    /// <summary>
    /// Discards an unauthenticated tail (kept in <c>log/discarded/FROM-TO.entries</c>, 0600) and seals
    /// <c>log.tail.discarded</c>; leaves an authenticated tail (or none) alone. Needs the writer lock.
    /// </summary>
    public static async Task<TailDiscard> DiscardTailAsync(DataFolder folder, string passphrase, CancellationToken ct)
    {
        var tailKey = folder.LoadTailKey(passphrase);
        var keys = folder.LoadVerifierKeys();
        (long From, long Count, byte[] Digest)? discarded;
        await using (var store = folder.OpenReader())
        {
            await store.AcquireSoleWriterAsync(ct).ConfigureAwait(false);
            var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false)
                ?? throw new NodeException("the log has no signed checkpoint; there is no tail to tell apart", NodeFailure.Integrity);
            try
            {
                new CheckpointVerifier(folder.Config.Origin, keys).Verify(latest.Note);
            }
            catch (VerificationException e)
            {
                throw new LogIntegrityException($"the last stored checkpoint (size {latest.Size}) does not verify under this log's keys: {e.Message}", e);
            }

            var tail = await LogTail.InspectAsync(store, latest.Size, folder.Config.Origin, tailKey, ct).ConfigureAwait(false);
            if (tail.Count == 0 || tail.Authenticated == true)
            {
                return new TailDiscard(latest.Size, tail.Count, tail.Authenticated == true, null);
            }

            var digest = await KeepAsideAsync(folder, store, latest.Size, tail.Stored, ct).ConfigureAwait(false);
            await store.DiscardTailAsync(latest.Size, ct).ConfigureAwait(false);
            discarded = (latest.Size, tail.Count, digest);
        }

        var log = await folder.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
        await using (log.ConfigureAwait(false))
        {
            var (from, count, sha) = discarded.Value;
            var entry = new LogTailDiscardedEntry(from, count, Convert.ToHexStringLower(sha), "not authenticated as this log's own work (no matching tail seal)").Write();
            var sealedAt = await log.AppendAsync(entry, ct).ConfigureAwait(false);
            return new TailDiscard(from, count, false, sealedAt.Index);
        }
    }

    // The entries go to a private file before they leave the store, as a tlog-tiles entry bundle (uint16 length prefixes).
    private static async Task<byte[]> KeepAsideAsync(DataFolder folder, Ledger.Storage.ILogStore store, long from, long to, CancellationToken ct)
    {
        var directory = Path.Combine(folder.Path, "log", "discarded");
        DurableFile.CreateDirectory(directory);
        using var bundle = new MemoryStream();
        var length = new byte[2];
        for (var start = from; start < to;)
        {
            var entries = await store.ReadEntriesAsync(start, (int)Math.Min(4096, to - start), ct).ConfigureAwait(false);
            if (entries.Count == 0)
            {
                break;
            }

            foreach (var entry in entries)
            {
                BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)Math.Min(entry.Length, ushort.MaxValue));
                bundle.Write(length);
                bundle.Write(entry, 0, Math.Min(entry.Length, ushort.MaxValue));
            }

            start += entries.Count;
        }

        var bytes = bundle.ToArray();
        DurableFile.Replace(Path.Combine(directory, $"{from}-{to - 1}.entries"), bytes);
        return SHA256.HashData(bytes);
    }
}
