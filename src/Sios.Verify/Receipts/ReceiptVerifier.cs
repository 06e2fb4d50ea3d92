using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;
using Sios.Verify.Rotation;
using Sios.Verify.Trust;

namespace Sios.Verify.Receipts;

/// <summary>What a valid receipt proves: this entry is at this index of the log under this signed checkpoint.</summary>
/// <param name="Index">The entry's index.</param>
/// <param name="Entry">The entry bytes (from the receipt's extra data), now authenticated.</param>
/// <param name="Checkpoint">The verified checkpoint that includes it.</param>
public sealed record VerifiedReceipt(long Index, byte[] Entry, VerifiedCheckpoint Checkpoint);

/// <summary>
/// Verifies SIOS receipts (SPEC §5) offline: the checkpoint's signatures under the trusted vkeys, and the
/// inclusion of the entry carried in <c>extra</c> at <c>index</c> under that checkpoint's root.
/// </summary>
public sealed class ReceiptVerifier
{
    /// <summary>Largest entry the log accepts (tlog-tiles bundles use 16-bit lengths).</summary>
    public const int MaxEntryBytes = Entries.EntryJson.MaxEntryBytes;

    private readonly CheckpointVerifier? _checkpoints;
    private readonly LogTrust? _trust;

    /// <summary>Creates a verifier trusting <paramref name="checkpoints"/>' origin and keys.</summary>
    public ReceiptVerifier(CheckpointVerifier checkpoints) => _checkpoints = checkpoints;

    /// <summary>Creates a verifier that checks each checkpoint under <paramref name="trust"/> (keys valid at its size, witness quorum).</summary>
    public ReceiptVerifier(LogTrust trust) => _trust = trust;

    /// <summary>Creates a verifier that checks each checkpoint under the keys <paramref name="chain"/> says were valid at its size.</summary>
    public ReceiptVerifier(SignerKeyChain chain) : this(new LogTrust(chain)) { }

    /// <summary>Creates a verifier for the log whose keys are <paramref name="logKeys"/> (the origin is their name).</summary>
    public ReceiptVerifier(IReadOnlyList<VerifierKey> logKeys) : this(CheckpointVerifier.ForLogKeys(logKeys)) { }

    /// <summary>Verifies a <c>.tlog-proof</c> receipt; throws <see cref="VerificationException"/> naming the failure.</summary>
    public VerifiedReceipt Verify(ReadOnlySpan<byte> receipt)
    {
        var proof = TlogProof.Parse(receipt);
        if (proof.Extra is null)
        {
            throw new VerificationException("receipt has no 'extra' line: a SIOS receipt carries the entry bytes there");
        }

        if (proof.Extra.Length is 0 or > MaxEntryBytes)
        {
            throw new VerificationException($"receipt entry is {proof.Extra.Length} bytes; entries are 1 to {MaxEntryBytes} bytes");
        }

        var checkpoint = _trust is not null ? _trust.VerifyCheckpoint(proof.CheckpointNote) : _checkpoints!.Verify(proof.CheckpointNote);
        var leaf = Rfc6962.LeafHash(proof.Extra);
        try
        {
            MerkleProofs.VerifyInclusion(proof.Index, checkpoint.Checkpoint.Size, leaf, proof.InclusionProof, checkpoint.Checkpoint.Root);
        }
        catch (VerificationException e)
        {
            throw new VerificationException($"entry {proof.Index} is not included in the checkpoint at size {checkpoint.Checkpoint.Size}: {e.Message}", e);
        }

        return new VerifiedReceipt(proof.Index, proof.Extra, checkpoint);
    }
}
