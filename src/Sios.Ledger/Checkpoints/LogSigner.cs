using System.Text;
using Sios.Signing;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;

namespace Sios.Ledger.Checkpoints;

/// <summary>
/// Signs checkpoints with the log's two keys (SPEC §3): the ML-DSA-65 note signature and the ML-DSA-44
/// timestamped subtree/v1 cosignature, both under the origin as key name.
/// </summary>
public sealed class LogSigner : IDisposable
{
    private readonly MlDsaPrivateKey _primary;
    private readonly MlDsaPrivateKey _cosigner;
    private readonly TimeProvider _clock;

    /// <summary>Creates a signer; takes ownership of both keys.</summary>
    public LogSigner(string origin, MlDsaPrivateKey mlDsa65, MlDsaPrivateKey mlDsa44, TimeProvider? clock = null)
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
    }

    /// <summary>The log's origin line.</summary>
    public string Origin { get; }

    /// <summary>The ML-DSA-65 verifier key.</summary>
    public VerifierKey PrimaryKey { get; }

    /// <summary>The ML-DSA-44 cosignature verifier key.</summary>
    public VerifierKey CosignerKey { get; }

    /// <summary>Both verifier keys, ML-DSA-65 first.</summary>
    public IReadOnlyList<VerifierKey> VerifierKeys => [PrimaryKey, CosignerKey];

    /// <summary>Signs the checkpoint for (<paramref name="size"/>, <paramref name="root"/>) and returns the note bytes.</summary>
    public byte[] Sign(long size, ReadOnlySpan<byte> root)
    {
        var text = new Checkpoint(Origin, size, root).ToNoteText();
        var textBytes = Encoding.UTF8.GetBytes(text);
        var primary = _primary.Sign(textBytes);

        var timestamp = (ulong)_clock.GetUtcNow().ToUnixTimeSeconds();
        var message = CosignedMessage.Build(Origin, timestamp, Origin, 0, (ulong)size, root);
        var cosignature = new byte[8 + MlDsaSizes.Signature(MlDsaAlgorithm.MlDsa44)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(cosignature, timestamp);
        _cosigner.Sign(message).CopyTo(cosignature, 8);

        var note = new StringBuilder(text.Length + 8_000)
            .Append(text)
            .Append('\n')
            .Append(SignedNote.FormatSignatureLine(Origin, PrimaryKey.KeyId, primary))
            .Append(SignedNote.FormatSignatureLine(Origin, CosignerKey.KeyId, cosignature))
            .ToString();
        return Encoding.UTF8.GetBytes(note);
    }

    /// <summary>Disposes both keys.</summary>
    public void Dispose()
    {
        _primary.Dispose();
        _cosigner.Dispose();
    }
}
