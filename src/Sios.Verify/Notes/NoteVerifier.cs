using System.Buffers.Binary;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;

namespace Sios.Verify.Notes;

/// <summary>A signature line that verified, with the key that made it.</summary>
/// <param name="Key">The verifier key.</param>
/// <param name="Timestamp">The cosignature timestamp (POSIX seconds) for timestamped types, else null.</param>
public sealed record VerifiedSignature(VerifierKey Key, ulong? Timestamp);

/// <summary>
/// Verifies signed notes under a fixed set of trusted keys (c2sp.org/signed-note rules): lines from unknown
/// keys are ignored; a line from a known key that fails rejects the whole note; and every trusted key must
/// have signed, since a SIOS checkpoint carries both of the log's signatures.
/// </summary>
public sealed class NoteVerifier
{
    private readonly List<VerifierKey> _keys;
    private readonly NoteLimits _limits;

    /// <summary>Creates a verifier requiring a valid signature from each of <paramref name="keys"/>.</summary>
    public NoteVerifier(IEnumerable<VerifierKey> keys, NoteLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys.ToList();
        _limits = limits ?? NoteLimits.Default;
        if (_keys.Count == 0)
        {
            throw new ArgumentException("at least one verifier key is required", nameof(keys));
        }
    }

    /// <summary>Parses and verifies <paramref name="note"/>; throws <see cref="VerificationException"/> naming the failure.</summary>
    public (SignedNote Note, IReadOnlyList<VerifiedSignature> Signatures) Verify(ReadOnlySpan<byte> note)
    {
        var (parsed, verified) = VerifyPresent(note);
        foreach (var key in _keys)
        {
            if (!verified.Any(v => ReferenceEquals(v.Key, key)))
            {
                throw new VerificationException($"note is not signed by {Describe(key)}");
            }
        }

        return (parsed, verified);
    }

    /// <summary>
    /// As <see cref="Verify"/>, but one valid signature from any of the keys suffices (a witness trusting several log
    /// keys, c2sp.org/tlog-witness); a line from a known key that fails still rejects the note.
    /// </summary>
    public (SignedNote Note, IReadOnlyList<VerifiedSignature> Signatures) VerifyAny(ReadOnlySpan<byte> note)
    {
        var (parsed, verified) = VerifyPresent(note);
        return verified.Count > 0 ? (parsed, verified) : throw new VerificationException("note carries no signature from a trusted key");
    }

    /// <summary>
    /// Verifies every line from a known key and returns those (possibly none): a line from a known key that fails still
    /// rejects the note. For cosignatures, where which of the keys signed is the question.
    /// </summary>
    public (SignedNote Note, IReadOnlyList<VerifiedSignature> Signatures) VerifyPresent(ReadOnlySpan<byte> note)
    {
        var parsed = SignedNote.Parse(note, _limits);
        var verified = new List<VerifiedSignature>();
        foreach (var line in parsed.Signatures)
        {
            var key = _keys.FirstOrDefault(k => k.KeyId == line.KeyId && string.Equals(k.Name, line.KeyName, StringComparison.Ordinal));
            if (key is null)
            {
                continue;
            }

            if (verified.Any(v => ReferenceEquals(v.Key, key)))
            {
                throw new VerificationException($"note carries two signatures by {Describe(key)}");
            }

            verified.Add(VerifyLine(parsed, key, line.Signature));
        }

        return (parsed, verified);
    }

    private static VerifiedSignature VerifyLine(SignedNote note, VerifierKey key, byte[] signature)
    {
        if (signature.Length != NoteSignatureType.SignatureLength(key.Kind))
        {
            throw new VerificationException($"signature by {Describe(key)} is {signature.Length} bytes, not {NoteSignatureType.SignatureLength(key.Kind)}");
        }

        ulong? timestamp = null;
        var ok = key.Kind switch
        {
            NoteKeyKind.Ed25519 => Ed25519Verifier.Verify(key.PublicKey, note.TextBytes, signature),
            NoteKeyKind.MlDsa65 => MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa65, key.PublicKey, note.TextBytes, signature),
            NoteKeyKind.MlDsa44Cosignature => VerifyCosignature(note, key, signature, out timestamp),
            NoteKeyKind.Ed25519Cosignature => VerifyEd25519Cosignature(note, key, signature, out timestamp),
            _ => false,
        };
        if (!ok)
        {
            throw new VerificationException($"signature by {Describe(key)} does not verify");
        }

        return new VerifiedSignature(key, timestamp);
    }

    private static bool VerifyCosignature(SignedNote note, VerifierKey key, byte[] signature, out ulong? timestamp)
    {
        var ts = ReadTimestamp(key, signature);
        timestamp = ts;
        var checkpoint = Checkpoint.Parse(note.Text);
        var message = CosignedMessage.Build(key.Name, ts, checkpoint.Origin, 0, (ulong)checkpoint.Size, checkpoint.Root);
        return MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa44, key.PublicKey, message, signature.AsSpan(8));
    }

    private static bool VerifyEd25519Cosignature(SignedNote note, VerifierKey key, byte[] signature, out ulong? timestamp)
    {
        var ts = ReadTimestamp(key, signature);
        timestamp = ts;
        // Only a checkpoint can be cosigned; parsing refuses any other note text before its signature is trusted.
        _ = Checkpoint.Parse(note.Text);
        return Ed25519Verifier.Verify(key.PublicKey, CosignedMessage.BuildV1(ts, note.Text), signature.AsSpan(8));
    }

    private static ulong ReadTimestamp(VerifierKey key, byte[] signature)
    {
        var ts = BinaryPrimitives.ReadUInt64BigEndian(signature);
        return ts > long.MaxValue ? throw new VerificationException($"cosignature by {Describe(key)} has a timestamp above 2^63-1") : ts;
    }

    private static string Describe(VerifierKey key) => $"{key.Name} (key ID {key.KeyId:x8}, {key.Kind})";
}
