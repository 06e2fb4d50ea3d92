using Sios.Verify.Notes;
using Sios.Verify.Rotation;

namespace Sios.Ledger.Entries;

/// <summary>Builds the <c>signer.rotated</c> entry (SPEC §2): the log's old and new vkeys, each ML-DSA-65 first.</summary>
public static class SignerRotatedEntries
{
    /// <summary>The entry retiring <paramref name="oldKeys"/> for <paramref name="newKeys"/>, by the operator.</summary>
    public static byte[] Write(IReadOnlyList<VerifierKey> oldKeys, IReadOnlyList<VerifierKey> newKeys, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(oldKeys);
        ArgumentNullException.ThrowIfNull(newKeys);
        return new SignerRotatedEntry(oldKeys, newKeys).Write(clock);
    }
}
