using Sios.Verify.Notes;

namespace Sios.Verify.Checkpoints;

/// <summary>A checkpoint whose signatures verified under the configured keys.</summary>
/// <param name="Checkpoint">The parsed body.</param>
/// <param name="Note">The signed note it came from.</param>
/// <param name="Signatures">The verified signatures.</param>
public sealed record VerifiedCheckpoint(Checkpoint Checkpoint, SignedNote Note, IReadOnlyList<VerifiedSignature> Signatures)
{
    /// <summary>The policy witnesses whose cosignatures verified, when a witness policy was applied (<see cref="Trust.LogTrust"/>).</summary>
    public IReadOnlyList<Policy.PolicyWitness> Witnesses { get; init; } = [];
}

/// <summary>Verifies signed checkpoints of one log: origin line, format, and every trusted key's signature.</summary>
public sealed class CheckpointVerifier
{
    private readonly NoteVerifier _notes;

    /// <summary>Creates a verifier for the log named <paramref name="origin"/> trusting <paramref name="keys"/>.</summary>
    public CheckpointVerifier(string origin, IEnumerable<VerifierKey> keys, NoteLimits? limits = null)
    {
        NoteText.RequireValidKeyName(origin, "origin");
        Origin = origin;
        _notes = new NoteVerifier(keys, limits);
    }

    /// <summary>Creates a verifier whose origin is the name of the first key (SIOS log keys are named by origin).</summary>
    public static CheckpointVerifier ForLogKeys(IReadOnlyList<VerifierKey> keys, NoteLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new ArgumentException("at least one verifier key is required", nameof(keys));
        }

        return new CheckpointVerifier(keys[0].Name, keys, limits);
    }

    /// <summary>The origin line every accepted checkpoint must carry.</summary>
    public string Origin { get; }

    /// <summary>Verifies a signed checkpoint note; throws <see cref="VerificationException"/> naming the failure.</summary>
    public VerifiedCheckpoint Verify(ReadOnlySpan<byte> note)
    {
        var (parsed, signatures) = _notes.Verify(note);
        var checkpoint = Checkpoint.Parse(parsed.Text);
        if (!string.Equals(checkpoint.Origin, Origin, StringComparison.Ordinal))
        {
            throw new VerificationException($"checkpoint origin '{checkpoint.Origin}' is not the expected '{Origin}'");
        }

        return new VerifiedCheckpoint(checkpoint, parsed, signatures);
    }
}
