namespace Sios.Verify.Checkpoints;

/// <summary>
/// Decides whether a signed checkpoint of one log is to be believed: its signer keys (<see cref="Rotation.SignerKeyChain"/>),
/// or those and a witness policy's quorum (<see cref="Trust.LogTrust"/>). Monitors and auditors ask only this.
/// </summary>
public interface ICheckpointTrust
{
    /// <summary>The origin of the log whose checkpoints this trusts.</summary>
    string Origin { get; }

    /// <summary>Verifies a signed checkpoint note; throws <see cref="VerificationException"/> naming why it is not trusted.</summary>
    VerifiedCheckpoint VerifyCheckpoint(ReadOnlySpan<byte> note);
}
