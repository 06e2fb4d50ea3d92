using Sios.Verify.Crypto;

namespace Sios.Verify.Notes;

/// <summary>The signature algorithms a SIOS verifier key can name (c2sp.org/signed-note type bytes).</summary>
public enum NoteKeyKind
{
    /// <summary>Type 0x01: Ed25519 over the note text (the plain signed-note algorithm).</summary>
    Ed25519,

    /// <summary>Type 0x06: timestamped ML-DSA-44 subtree/v1 cosignature (c2sp.org/tlog-cosignature).</summary>
    MlDsa44Cosignature,

    /// <summary>Type 0x04: timestamped Ed25519 cosignature/v1 (c2sp.org/tlog-cosignature), as witnesses make.</summary>
    Ed25519Cosignature,

    /// <summary>Type 0xff + DER OID id-ml-dsa-65: ML-DSA-65 pure signature over the note text (SPEC §3).</summary>
    MlDsa65,
}

/// <summary>The identifier bytes that precede the public key in a vkey and in the key ID hash.</summary>
public static class NoteSignatureType
{
    /// <summary>DER of OID 2.16.840.1.101.3.4.3.18 (id-ml-dsa-65) behind the 0xff escape byte.</summary>
    private static readonly byte[] MlDsa65Identifier = [0xff, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];
    private static readonly byte[] Ed25519Identifier = [0x01];
    private static readonly byte[] MlDsa44CosignatureIdentifier = [0x06];
    private static readonly byte[] Ed25519CosignatureIdentifier = [0x04];

    /// <summary>The type identifier bytes for <paramref name="kind"/>.</summary>
    public static ReadOnlySpan<byte> Identifier(NoteKeyKind kind) => kind switch
    {
        NoteKeyKind.Ed25519 => Ed25519Identifier,
        NoteKeyKind.MlDsa44Cosignature => MlDsa44CosignatureIdentifier,
        NoteKeyKind.Ed25519Cosignature => Ed25519CosignatureIdentifier,
        NoteKeyKind.MlDsa65 => MlDsa65Identifier,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Length of the raw public key for <paramref name="kind"/>.</summary>
    public static int PublicKeyLength(NoteKeyKind kind) => kind switch
    {
        NoteKeyKind.Ed25519 or NoteKeyKind.Ed25519Cosignature => 32,
        NoteKeyKind.MlDsa44Cosignature => MlDsaSizes.PublicKey(MlDsaAlgorithm.MlDsa44),
        NoteKeyKind.MlDsa65 => MlDsaSizes.PublicKey(MlDsaAlgorithm.MlDsa65),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Length of the signature bytes after the 4-byte key ID.</summary>
    public static int SignatureLength(NoteKeyKind kind) => kind switch
    {
        NoteKeyKind.Ed25519 => 64,
        NoteKeyKind.Ed25519Cosignature => 8 + 64,
        NoteKeyKind.MlDsa44Cosignature => 8 + MlDsaSizes.Signature(MlDsaAlgorithm.MlDsa44),
        NoteKeyKind.MlDsa65 => MlDsaSizes.Signature(MlDsaAlgorithm.MlDsa65),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Recognises the type prefix of decoded vkey material; returns the prefix length, or 0 if unknown.</summary>
    public static int Recognise(ReadOnlySpan<byte> material, out NoteKeyKind kind)
    {
        foreach (var candidate in Enum.GetValues<NoteKeyKind>())
        {
            var id = Identifier(candidate);
            if (material.StartsWith(id))
            {
                kind = candidate;
                return id.Length;
            }
        }

        kind = default;
        return 0;
    }
}
