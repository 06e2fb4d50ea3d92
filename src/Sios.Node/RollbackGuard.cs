using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Verify.Tiles;
using Sios.Ledger.Durable;
using Sios.Verify.Entries;

namespace Sios.Node;

/// <summary>
/// A defence against the store being rolled back (an old backup restored, rows deleted): beside the database, in
/// log/published.checkpoint, the newest checkpoint this log has published is kept, and a store whose tree is behind it
/// or disagrees with it is refused before anything is signed over it. The file is written when the log is opened and
/// closed, and every few seconds while serving, so it can lag a little behind the store, never run ahead of it.
/// It is not a witness: whoever can rewrite the database can rewrite this file too; it catches the honest mistakes
/// and the careless attacker, and keeps a split view from being signed by this machine.
/// </summary>
internal static class RollbackGuard
{
    public const string FileName = "published.checkpoint";

    /// <summary>
    /// Why the store at <paramref name="latestSize"/> is behind or forked from the recorded checkpoint, and that
    /// checkpoint's size; null when it is not.
    /// </summary>
    public static async Task<(string Message, long PublishedSize)?> ProblemAsync(string file, ILogReader store, long latestSize, CancellationToken ct)
    {
        if (Read(file) is not { } recorded)
        {
            // No record yet, or one cut short by a crash (it is written without fsync): it says nothing; the next checkpoint replaces it.
            return null;
        }

        if (recorded.Size > latestSize)
        {
            return ($"the store's newest checkpoint is at size {latestSize}, but this log already published size {recorded.Size} ({file}): " +
                "the database was rolled back or restored from an older copy", recorded.Size);
        }

        if (recorded.Size == 0)
        {
            return null;
        }

        var root = await new TiledTree(new StoreLogSource(store), recorded.Size).RootAsync(ct).ConfigureAwait(false);
        return root.AsSpan().SequenceEqual(recorded.Root)
            ? null
            : ($"the store's tree at size {recorded.Size} differs from the checkpoint this log published at that size ({file}): a fork", recorded.Size);
    }

    /// <summary>
    /// Refuses a rolled-back or forked store, then records the log's newest checkpoint. A guard file missing beside a
    /// non-empty log (every open and close of the log writes it, so someone removed it) cannot be told from a rollback
    /// made consistent by removing it too: it is sealed as <c>log.guard.missing</c> before a new one is written, so
    /// the record keeps what the new file would otherwise hide.
    /// </summary>
    public static async Task CheckAndRecordAsync(string file, TransparencyLog log, CancellationToken ct)
    {
        if (await ProblemAsync(file, log.Reader, log.Latest.Size, ct).ConfigureAwait(false) is { } problem)
        {
            throw new LogIntegrityException(problem.Message);
        }

        if (log.Latest.Size > 0 && !File.Exists(file))
        {
            var size = log.Latest.Size;
            await log.AppendAsync(new LogGuardMissingEntry(size, "log/" + FileName).Write(), ct).ConfigureAwait(false);
            Notice.Write($"warning: log/{FileName} was missing beside a log of {size} entries (removed by hand?); sealed as {EntryTypes.LogGuardMissing}");
        }

        Record(file, log.Latest);
    }

    /// <summary>Records <paramref name="latest"/> if it is newer than what the file holds.</summary>
    public static void Record(string file, PublishedCheckpoint latest)
    {
        if (Read(file) is { } recorded && recorded.Size >= latest.Size)
        {
            return;
        }

        // Written on the sequencer, so without fsync: the record may lag after a power cut (it is allowed to), and is
        // never torn.
        DurableFile.ReplaceLazily(file, latest.Note);
    }

    /// <summary>
    /// A recorder for <see cref="TransparencyLogOptions.Published"/>: at most one write a second, so the sequencer is not
    /// slowed; the log's last call, at close, always writes.
    /// </summary>
    public static Action<PublishedCheckpoint> Recorder(string file)
    {
        // Only the log's publisher calls this, one checkpoint at a time, so plain captured fields suffice.
        long? last = null;
        PublishedCheckpoint? previous = null;
        return checkpoint =>
        {
            var now = Environment.TickCount64;
            var closing = ReferenceEquals(checkpoint, previous);
            previous = checkpoint;
            if (!closing && now - last < 1_000)
            {
                return;
            }

            last = now;
            Record(file, checkpoint);
        };
    }

    private static Checkpoint? Read(string file)
    {
        try
        {
            return File.Exists(file) ? Checkpoint.Parse(SignedNote.Parse(File.ReadAllBytes(file)).Text) : null;
        }
        catch (VerificationException)
        {
            return null;
        }
    }
}
