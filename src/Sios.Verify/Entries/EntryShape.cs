using System.Collections.Frozen;
using Sios.Verify.Rotation;

namespace Sios.Verify.Entries;

/// <summary>
/// Whether an entry has the shape SPEC §2 gives it: the common members for every entry, and for a catalogued type at
/// version 1 its typed read as well. Unknown types, and catalogued ones at a later version, are checked by their
/// common members alone: readers must accept types they do not know.
/// </summary>
public static class EntryShape
{
    private delegate void Reader(ReadOnlySpan<byte> entry);

    private static readonly FrozenDictionary<string, Reader> Readers = new Dictionary<string, Reader>(StringComparer.Ordinal)
    {
        [EntryTypes.Inference] = e => InferenceEntry.Read(e),
        [EntryTypes.InferenceBegin] = e => InferenceBeginEntry.Read(e),
        [EntryTypes.InferenceInterrupted] = e => InferenceInterruptedEntry.Read(e),
        [EntryTypes.BrainRegistered] = e => BrainRegisteredEntry.Read(e),
        [EntryTypes.BrainRemoved] = e => BrainRemovedEntry.Read(e),
        [EntryTypes.BrainLoaded] = e => BrainLoadedEntry.Read(e),
        [EntryTypes.BrainRefused] = e => BrainRefusedEntry.Read(e),
        [EntryTypes.KeyCreated] = e => KeyCreatedEntry.Read(e),
        [EntryTypes.KeyRevoked] = e => KeyRevokedEntry.Read(e),
        [EntryTypes.SignerRotated] = e => SignerRotatedEntry.Read(e),
        [EntryTypes.SignerAdded] = e => Rotation.SignerAddedEntry.Read(e),
        [EntryTypes.ConfigChanged] = e => ConfigChangedEntry.Read(e),
        [EntryTypes.SystemStarted] = e => SystemStartedEntry.Read(e),
        [EntryTypes.SystemStopped] = e => SystemStoppedEntry.Read(e),
        [EntryTypes.Attestation] = e => AttestationEntry.Read(e),
        [EntryTypes.OperatorNote] = e => OperatorNoteEntry.Read(e),
        [EntryTypes.WitnessRefused] = e => WitnessRefusedEntry.Read(e),
        [EntryTypes.EgressRefused] = e => EgressRefusedEntry.Read(e),
        [EntryTypes.VaultPurged] = e => VaultPurgedEntry.Read(e),
        [EntryTypes.StateRefused] = e => StateRefusedEntry.Read(e),
        [EntryTypes.StateAdopted] = e => StateAdoptedEntry.Read(e),
        [EntryTypes.LogTailDiscarded] = e => LogTailDiscardedEntry.Read(e),
        [EntryTypes.LogGuardMissing] = e => LogGuardMissingEntry.Read(e),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The catalogued types this check reads in full.</summary>
    public static IReadOnlyCollection<string> TypedChecks => Readers.Keys;

    /// <summary>Null when <paramref name="entry"/> has its shape; otherwise what is wrong, in words.</summary>
    public static string? Problem(ReadOnlySpan<byte> entry)
    {
        try
        {
            var header = LogEntry.Parse(entry);
            if (header.V == 1 && Readers.TryGetValue(header.Type, out var read))
            {
                read(entry);
            }

            return null;
        }
        catch (FormatViolationException e)
        {
            return e.Message;
        }
    }
}
