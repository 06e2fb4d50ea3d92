using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Verify.Policy;
using Sios.Verify.Receipts;
using Sios.Verify.Rotation;

namespace Sios.Verify.Trust;

/// <summary>
/// Everything a verifier trusts about one log, in one object (as sigstore-go keeps one trusted root per verifier): its
/// origin, its signing keys and their rotations (<see cref="SignerKeyChain"/>), and optionally a witness policy whose
/// quorum of cosignatures every accepted checkpoint must carry. Every verifier of checkpoints takes one.
/// </summary>
public sealed class LogTrust : ICheckpointTrust
{
    private readonly NoteVerifier? _witnesses;

    /// <summary>Trusts the keys of <paramref name="keys"/> and, when given, requires <paramref name="policy"/>'s quorum.</summary>
    public LogTrust(SignerKeyChain keys, WitnessPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        Keys = keys;
        Policy = policy;
        if (policy is { Witnesses.Count: > 0 })
        {
            _witnesses = new NoteVerifier(policy.Witnesses.Select(w => w.Key));
        }
    }

    /// <summary>Trusts exactly <paramref name="logKeys"/> (no rotation), with no witness requirement.</summary>
    public LogTrust(IReadOnlyList<VerifierKey> logKeys) : this(new SignerKeyChain(logKeys)) { }

    /// <summary>The log's origin.</summary>
    public string Origin => Keys.Origin;

    /// <summary>The log's signing keys through their rotations.</summary>
    public SignerKeyChain Keys { get; }

    /// <summary>The witness policy, or null when no cosignature is required.</summary>
    public WitnessPolicy? Policy { get; }

    /// <summary>
    /// Verifies a checkpoint: every log key valid at its size must have signed it, and when a policy is set, the valid
    /// cosignatures of its witnesses must satisfy the quorum. A line from a known witness key that does not verify
    /// rejects the note (c2sp.org/signed-note); lines from unknown keys are ignored.
    /// </summary>
    public VerifiedCheckpoint VerifyCheckpoint(ReadOnlySpan<byte> note)
    {
        var verified = Keys.VerifyCheckpoint(note);
        if (Policy is null)
        {
            return verified;
        }

        var cosigned = Cosigners(note);
        if (!Policy.IsSatisfied(cosigned))
        {
            var have = cosigned.Count == 0 ? "no witness" : string.Join(", ", cosigned.Select(w => w.Name));
            throw new VerificationException(
                $"the checkpoint at size {verified.Checkpoint.Size} is cosigned by {have}: that does not meet the policy's quorum '{Policy.QuorumName}'");
        }

        return verified with { Witnesses = cosigned };
    }

    /// <summary>The policy's witnesses whose cosignature on <paramref name="note"/> verifies (none without a policy).</summary>
    public IReadOnlyList<PolicyWitness> Cosigners(ReadOnlySpan<byte> note)
    {
        if (_witnesses is null || Policy is null)
        {
            return [];
        }

        var lines = _witnesses.VerifyPresent(note).Signatures;
        return [.. Policy.Witnesses.Where(w => lines.Any(s => ReferenceEquals(s.Key, w.Key)))];
    }

    /// <summary>A receipt verifier under this trust.</summary>
    public ReceiptVerifier ReceiptVerifier() => new(this);
}
