using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.Entries;
using Sios.Ledger.Pipeline;
using Sios.Server.Access;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Ledger.Durable;

namespace Sios.Cli.Commands;

/// <summary>
/// <c>sios log discard-tail</c>: the operator's way out when the store holds entries past its last signed checkpoint
/// that this log did not write (rows added by hand, or damage). They were never acknowledged: no answer leaves before
/// the checkpoint covering it, so removing them takes nothing a client holds. They are kept aside for forensics, and
/// the removal itself is sealed.
/// </summary>
internal static class DiscardTailCommand
{
    /// <summary>The entry type recording a discarded tail (SPEC §2: a refused or discarded state).</summary>
    public const string EntryType = "log.tail.discarded";

    public static Command Create()
    {
        var command = new Command("discard-tail", """
            Remove entries past the last signed checkpoint that this log did not write (their tail seal does not
            match: they were added to the store by hand, or damaged), after which the log opens again. The removed
            entries are kept in log/discarded/FROM-TO.entries (tlog-tiles entry bundle, 0600), and a log.tail.discarded
            entry (first index, count, SHA-256 of that file) is sealed. A tail the log did write is never removed (the
            next start signs it). Prints the index of the sealed entry, or nothing when there was nothing to discard.
            Needs SIOS_KEY_PASSPHRASE; not while 'sios serve' runs (exit 4).
            """);
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var passphrase = CommonOptions.Passphrase();
            var tailKey = folder.LoadTailKey(passphrase);
            var keys = folder.LoadVerifierKeys();
            (long From, long Count, byte[] Digest)? discarded;
            await using (var store = Ledger.Sqlite.SqliteLogStore.Open(folder.DatabasePath))
            {
                await store.AcquireWriterAsync(ct).ConfigureAwait(false);
                var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false)
                    ?? throw new CliException("the log has no signed checkpoint; there is no tail to tell apart", ExitCodes.Integrity);
                try
                {
                    new CheckpointVerifier(folder.Config.Origin, keys).Verify(latest.Note);
                }
                catch (VerificationException e)
                {
                    throw new LogIntegrityException($"the last stored checkpoint (size {latest.Size}) does not verify under this log's keys: {e.Message}", e);
                }

                var tail = await LogTail.InspectAsync(store, latest.Size, folder.Config.Origin, tailKey, ct).ConfigureAwait(false);
                if (tail.Count == 0)
                {
                    Terminal.Message("nothing to discard: no entries follow the last signed checkpoint");
                    return ExitCodes.Ok;
                }

                if (tail.Authenticated == true)
                {
                    Terminal.Message($"nothing discarded: the {tail.Count} entries past the last signed checkpoint are this log's own (a crash left them); the next start signs them");
                    return ExitCodes.Ok;
                }

                var digest = await KeepAsideAsync(folder, store, latest.Size, tail.Stored, ct).ConfigureAwait(false);
                await store.DiscardTailAsync(latest.Size, ct).ConfigureAwait(false);
                discarded = (latest.Size, tail.Count, digest);
            }

            var log = await folder.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
            await using (log.ConfigureAwait(false))
            {
                var (from, count, sha) = discarded.Value;
                var (entry, _) = EntryWriter.Write(EntryType, "operator", json =>
                {
                    json.WriteNumber("from", from);
                    json.WriteNumber("count", count);
                    json.WriteString("sha256", Convert.ToHexStringLower(sha));
                    json.WriteString("reason", "not authenticated as this log's own work (no matching tail seal)");
                });
                var sealedAt = await log.AppendAsync(entry, ct).ConfigureAwait(false);
                Terminal.Message($"discarded {count} entries from index {from}; kept aside in log/discarded/; sealed as {EntryType}");
                Terminal.Result(sealedAt.Index.ToString(CultureInfo.InvariantCulture));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    // The entries go to a private file before they leave the store, as a tlog-tiles entry bundle (uint16 length prefixes).
    private static async Task<byte[]> KeepAsideAsync(DataFolder folder, Ledger.Sqlite.SqliteLogStore store, long from, long to, CancellationToken ct)
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
