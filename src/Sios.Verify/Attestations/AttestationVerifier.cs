using Sios.Verify.Notes;

namespace Sios.Verify.Attestations;

/// <summary>An attestation whose signature verified.</summary>
/// <param name="Statement">The parsed statement.</param>
/// <param name="Note">The signed note it came from.</param>
/// <param name="Sha256">SHA-256 of the signed text (<c>sha256:&lt;hex&gt;</c>): what the log's <c>attestation</c> entry holds.</param>
public sealed record VerifiedAttestation(AttestationStatement Statement, SignedNote Note, string Sha256);

/// <summary>
/// Verifies a signed attestation offline with nothing but the log's ML-DSA-65 vkey: a c2sp.org/signed-note whose
/// text is a canonical <see cref="AttestationStatement"/> naming that key's origin and listing that key as a signer.
/// </summary>
public sealed class AttestationVerifier
{
    private readonly VerifierKey _key;
    private readonly AttestationLimits _limits;
    private readonly NoteVerifier _notes;

    /// <summary>Creates a verifier trusting the log's ML-DSA-65 <paramref name="key"/>.</summary>
    public AttestationVerifier(VerifierKey key, AttestationLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Kind != NoteKeyKind.MlDsa65)
        {
            throw new ArgumentException($"an attestation is signed by the log's ML-DSA-65 key, not a {key.Kind} key", nameof(key));
        }

        _key = key;
        _limits = limits ?? AttestationLimits.Default;
        _notes = new NoteVerifier([key], new NoteLimits(MaxNoteBytes: _limits.MaxBytes));
    }

    /// <summary>Parses and verifies <paramref name="note"/>; throws <see cref="VerificationException"/> naming the failure.</summary>
    public VerifiedAttestation Verify(ReadOnlySpan<byte> note)
    {
        if (note.Length > _limits.MaxBytes)
        {
            throw new FormatViolationException($"attestation is {note.Length} bytes, over the limit of {_limits.MaxBytes}");
        }

        var (parsed, _) = _notes.Verify(note);
        var statement = AttestationStatement.Parse(parsed.Text, _limits);
        if (!string.Equals(statement.Origin, _key.Name, StringComparison.Ordinal))
        {
            throw new VerificationException($"attestation origin '{statement.Origin}' is not the key's '{_key.Name}'");
        }

        if (!statement.Signers.Any(k => string.Equals(k.ToString(), _key.ToString(), StringComparison.Ordinal)))
        {
            throw new VerificationException("attestation does not list the key that signed it among its signers");
        }

        return new VerifiedAttestation(statement, parsed, AttestationStatement.Digest(parsed.TextBytes));
    }
}
