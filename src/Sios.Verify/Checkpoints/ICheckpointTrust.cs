namespace Sios.Verify.Checkpoints;

/// <summary>
/// Decides whether a signed checkpoint of one log is to be believed: today its signer keys (<see cref="Rotation.SignerKeyChain"/>),
/// later a policy that also counts witness cosignatures. Monitors and auditors ask only this.
/// </summary>
public interface ICheckpointTrust
{
    /// <summary>The origin of the log whose checkpoints this trusts.</summary>
    string Origin { get; }

    /// <summary>Verifies a signed checkpoint note; throws <see cref="VerificationException"/> naming why it is not trusted.</summary>
    VerifiedCheckpoint VerifyCheckpoint(ReadOnlySpan<byte> note);
}
