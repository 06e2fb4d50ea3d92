using System.Text;
using Sios.Ledger.Storage;
using Sios.Verify.Entries;
using Sios.Verify.Notes;

namespace Sios.Node.Sovereignty;

/// <summary>A sealed <c>witness.refused</c> entry, as the report names it.</summary>
/// <param name="Index">Its index in the log.</param>
/// <param name="Entry">The entry.</param>
internal sealed record RefusalFact(long Index, WitnessRefusedEntry Entry);

/// <summary>What the record says of its witnesses: the newest witnessed checkpoint kept, and every refusal sealed.</summary>
/// <param name="WitnessedSize">The size of the kept witnessed checkpoint, or null when none is kept (or it does not check out).</param>
/// <param name="Cosigners">The key names of the cosignatures it carries.</param>
/// <param name="Refusals">Every <c>witness.refused</c> entry, in log order.</param>
internal sealed record WitnessFacts(long? WitnessedSize, IReadOnlyList<string> Cosigners, IReadOnlyList<RefusalFact> Refusals)
{
    /// <summary>Reads them from the data folder and the log (every entry up to <paramref name="size"/>, a batch at a time).</summary>
    public static async Task<WitnessFacts> GatherAsync(DataFolder data, ILogReader store, long size, CancellationToken ct)
    {
        var kept = await NodeWitnessing.ReadKeptAsync(data.WitnessedCheckpointPath, store, data.Config.Origin, data.LoadVerifierKeys(), size, ct).ConfigureAwait(false);
        var cosigners = kept is null ? [] : SignedNote.Parse(kept.Note).Signatures
            .Select(s => s.KeyName).Where(n => !string.Equals(n, data.Config.Origin, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        var refusals = new List<RefusalFact>();
        for (long at = 0; at < size; at += 4096)
        {
            var batch = await store.ReadEntriesAsync(at, (int)Math.Min(4096, size - at), ct).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                if (WitnessRefusedEntry.TryRead(batch[i], out var refused))
                {
                    refusals.Add(new RefusalFact(at + i, refused.Body));
                }
            }
        }

        return new WitnessFacts(kept?.Size, cosigners, refusals);
    }

    /// <summary>One paragraph for the report's answer on the record, or empty when the log was never witnessed nor refused.</summary>
    public string Describe()
    {
        if (WitnessedSize is null && Refusals.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder(" ");
        text.Append(WitnessedSize is { } witnessed
            ? $"Outside parties vouch for it: the newest checkpoint a witness quorum cosigned is at size {witnessed} ({string.Join(", ", Cosigners)})."
            : "No witnessed checkpoint is kept.");
        if (Refusals.Count > 0)
        {
            var last = Refusals[^1];
            text.Append($" WITNESS REFUSALS: {Refusals.Count} sealed; the last, entry {last.Index}: {last.Entry.Witness} answered {last.Entry.Status}")
                .Append(last.Entry.Size is { } held ? $" holding size {held}" : "")
                .Append(last.Entry.Checkpoint is { } offered ? $" to the checkpoint at size {offered}" : "")
                .Append(last.Entry.Reason is { } reason ? $" ({reason})" : "")
                .Append(" — a rollback or fork of this log, or a witness that does not know it.");
        }

        return text.ToString();
    }
}
