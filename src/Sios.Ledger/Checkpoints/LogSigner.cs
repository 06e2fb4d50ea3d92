using System.Text;
using Sios.Signing;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;

namespace Sios.Ledger.Checkpoints;

/// <summary>
/// Signs checkpoints with the log's two keys (SPEC §3): the ML-DSA-65 note signature and the ML-DSA-44
/// timestamped subtree/v1 cosignature, both under the origin as key name. During a key rotation it also carries the
/// successor pair and signs with all four keys (old 65, old 44, new 65, new 44), so the checkpoint sealing the
/// <c>signer.rotated</c> entry verifies under either set. An optional Ed25519 key (SPEC §6, for witnesses that accept
/// only Ed25519 log keys) adds a plain signed-note line (type 0x01) after the post-quantum ones; rotations leave it be,
/// so it signs before, during and after one.
/// </summary>
public sealed class LogSigner : IDisposable
{
    private readonly MlDsaPrivateKey _primary;
    private readonly MlDsaPrivateKey _cosigner;
    private readonly TimeProvider _clock;
    private readonly MlDsaPrivateKey? _next65;
    private readonly MlDsaPrivateKey? _next44;
    private readonly Ed25519PrivateKey? _ed25519;

    /// <summary>Creates a signer; takes ownership of the keys (<paramref name="ed25519"/>, when given, adds the Ed25519 line).</summary>
    public LogSigner(string origin, MlDsaPrivateKey mlDsa65, MlDsaPrivateKey mlDsa44, TimeProvider? clock = null, Ed25519PrivateKey? ed25519 = null)
    {
        ArgumentNullException.ThrowIfNull(mlDsa65);
        ArgumentNullException.ThrowIfNull(mlDsa44);
        NoteText.RequireValidKeyName(origin, "origin");
        if (Encoding.UTF8.GetByteCount(origin) > 255)
        {
            throw new ArgumentException("the origin must be at most 255 bytes (tlog-cosignature)", nameof(origin));
        }

        if (mlDsa65.Algorithm != MlDsaAlgorithm.MlDsa65 || mlDsa44.Algorithm != MlDsaAlgorithm.MlDsa44)
        {
            throw new ArgumentException("the log needs an ML-DSA-65 key and an ML-DSA-44 key");
        }

        Origin = origin;
        _primary = mlDsa65;
        _cosigner = mlDsa44;
        _clock = clock ?? TimeProvider.System;
        PrimaryKey = VerifierKey.Create(origin, NoteKeyKind.MlDsa65, mlDsa65.PublicKey);
        CosignerKey = VerifierKey.Create(origin, NoteKeyKind.MlDsa44Cosignature, mlDsa44.PublicKey);
        _ed25519 = ed25519;
        Ed25519Key = ed25519 is null ? null : VerifierKey.Create(origin, NoteKeyKind.Ed25519, ed25519.PublicKey);
    }

    /// <summary>
    /// Creates a rotation signer: the current pair, then the successor pair, then the Ed25519 key if any (a rotation
    /// does not touch it); takes ownership of every key.
    /// </summary>
    public LogSigner(string origin, MlDsaPrivateKey mlDsa65, MlDsaPrivateKey mlDsa44, MlDsaPrivateKey successor65, MlDsaPrivateKey successor44, TimeProvider? clock = null, Ed25519PrivateKey? ed25519 = null)
        : this(origin, mlDsa65, mlDsa44, clock, ed25519)
    {
        ArgumentNullException.ThrowIfNull(successor65);
        ArgumentNullException.ThrowIfNull(successor44);
        if (successor65.Algorithm != MlDsaAlgorithm.MlDsa65 || successor44.Algorithm != MlDsaAlgorithm.MlDsa44)
        {
            throw new ArgumentException("the successor keys must be an ML-DSA-65 key and an ML-DSA-44 key");
        }

        _next65 = successor65;
        _next44 = successor44;
        SuccessorKeys = [VerifierKey.Create(origin, NoteKeyKind.MlDsa65, successor65.PublicKey), VerifierKey.Create(origin, NoteKeyKind.MlDsa44Cosignature, successor44.PublicKey)];
    }

    /// <summary>The log's origin line.</summary>
    public string Origin { get; }

    /// <summary>The ML-DSA-65 verifier key.</summary>
    public VerifierKey PrimaryKey { get; }

    /// <summary>The ML-DSA-44 cosignature verifier key.</summary>
    public VerifierKey CosignerKey { get; }

    /// <summary>The Ed25519 (0x01) verifier key when the log has one, else null.</summary>
    public VerifierKey? Ed25519Key { get; }

    /// <summary>Both post-quantum verifier keys, ML-DSA-65 first (the ones every checkpoint must carry; not <see cref="Ed25519Key"/>).</summary>
    public IReadOnlyList<VerifierKey> VerifierKeys => [PrimaryKey, CosignerKey];

    /// <summary>The successor pair's vkeys during a rotation (ML-DSA-65 first), else empty.</summary>
    public IReadOnlyList<VerifierKey> SuccessorKeys { get; } = [];

    /// <summary>Signs the checkpoint for (<paramref name="size"/>, <paramref name="root"/>) and returns the note bytes.</summary>
    public byte[] Sign(long size, ReadOnlySpan<byte> root)
    {
        var text = new Checkpoint(Origin, size, root).ToNoteText();
        var textBytes = Encoding.UTF8.GetBytes(text);
        var timestamp = (ulong)_clock.GetUtcNow().ToUnixTimeSeconds();
        var message = CosignedMessage.Build(Origin, timestamp, Origin, 0, (ulong)size, root);

        var note = new StringBuilder(text.Length + 16_000).Append(text).Append('\n');
        AppendPair(note, _primary, PrimaryKey, _cosigner, CosignerKey, textBytes, message, timestamp);
        if (_next65 is not null && _next44 is not null)
        {
            AppendPair(note, _next65, SuccessorKeys[0], _next44, SuccessorKeys[1], textBytes, message, timestamp);
        }

        if (_ed25519 is not null)
        {
            note.Append(SignedNote.FormatSignatureLine(Origin, Ed25519Key!.KeyId, _ed25519.Sign(textBytes)));
        }

        return Encoding.UTF8.GetBytes(note.ToString());
    }

    /// <summary>
    /// Signs a sovereignty statement (<c>sios-attestation/v1</c>) as a signed note with the log's ML-DSA-65 key, so the
    /// running log attests without the key being read again. Only text that begins with the attestation header is
    /// signed: the log key never signs anything a verifier could take for a checkpoint.
    /// </summary>
    public byte[] SignAttestation(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.StartsWith(Verify.Attestations.AttestationStatement.Header + "\n", StringComparison.Ordinal))
        {
            throw new ArgumentException($"only a {Verify.Attestations.AttestationStatement.Header} statement is signed this way", nameof(text));
        }

        var signature = _primary.Sign(Encoding.UTF8.GetBytes(text));
        return Encoding.UTF8.GetBytes(text + "\n" + SignedNote.FormatSignatureLine(Origin, PrimaryKey.KeyId, signature));
    }

    private void AppendPair(StringBuilder note, MlDsaPrivateKey primary, VerifierKey primaryKey, MlDsaPrivateKey cosigner, VerifierKey cosignerKey, byte[] text, byte[] message, ulong timestamp)
    {
        var cosignature = new byte[8 + MlDsaSizes.Signature(MlDsaAlgorithm.MlDsa44)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(cosignature, timestamp);
        cosigner.Sign(message).CopyTo(cosignature, 8);
        note.Append(SignedNote.FormatSignatureLine(Origin, primaryKey.KeyId, primary.Sign(text)))
            .Append(SignedNote.FormatSignatureLine(Origin, cosignerKey.KeyId, cosignature));
    }

    /// <summary>Disposes every key.</summary>
    public void Dispose()
    {
        _ed25519?.Dispose();
        _primary.Dispose();
        _cosigner.Dispose();
        _next65?.Dispose();
        _next44?.Dispose();
    }
}
