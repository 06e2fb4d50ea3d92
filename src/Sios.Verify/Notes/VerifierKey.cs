using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sios.Verify.Notes;

/// <summary>A signed-note verifier key: <c>name+hex(key ID)+base64(type || public key)</c>.</summary>
public sealed class VerifierKey
{
    private VerifierKey(string name, uint keyId, NoteKeyKind kind, byte[] publicKey)
    {
        Name = name;
        KeyId = keyId;
        Kind = kind;
        PublicKey = publicKey;
    }

    /// <summary>The key name (for SIOS log keys: the log origin).</summary>
    public string Name { get; }

    /// <summary>The 32-bit key ID, SHA-256(name || 0x0A || type || public key)[:4] read big-endian.</summary>
    public uint KeyId { get; }

    /// <summary>The signature algorithm this key verifies.</summary>
    public NoteKeyKind Kind { get; }

    /// <summary>The raw public key bytes.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Builds the vkey for a public key, deriving the key ID as the specs require.</summary>
    public static VerifierKey Create(string name, NoteKeyKind kind, ReadOnlySpan<byte> publicKey)
    {
        NoteText.RequireValidKeyName(name, "key name");
        if (publicKey.Length != NoteSignatureType.PublicKeyLength(kind))
        {
            throw new FormatViolationException($"a {kind} public key is {NoteSignatureType.PublicKeyLength(kind)} bytes, not {publicKey.Length}");
        }

        return new VerifierKey(name, ComputeKeyId(name, kind, publicKey), kind, publicKey.ToArray());
    }

    /// <summary>Parses a vkey string; rejects unknown types, wrong key lengths and key IDs that do not match the key.</summary>
    public static VerifierKey Parse(string vkey)
    {
        ArgumentNullException.ThrowIfNull(vkey);
        vkey = vkey.Trim();
        // Names cannot contain '+' and the key ID is hex, but base64 can: only the first two '+' separate parts.
        var parts = vkey.Split('+', 3);
        if (parts.Length != 3)
        {
            throw new FormatViolationException("a vkey has three parts separated by '+': name+keyid+base64key");
        }

        var (name, hex, material) = (parts[0], parts[1], parts[2]);
        NoteText.RequireValidKeyName(name, "vkey name");
        if (hex.Length != 8 || !uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var keyId)
            || !string.Equals(hex, hex.ToLowerInvariant(), StringComparison.Ordinal))
        {
            throw new FormatViolationException($"vkey key ID '{hex}' is not 8 lowercase hex digits");
        }

        var bytes = NoteText.DecodeBase64(material, "vkey key material");
        var prefix = NoteSignatureType.Recognise(bytes, out var kind);
        if (prefix == 0)
        {
            throw new FormatViolationException(bytes.Length == 0
                ? "vkey key material is empty"
                : $"vkey signature type 0x{bytes[0]:x2} is not supported (SIOS verifies ML-DSA-65 0xff+OID, ML-DSA-44 cosignature 0x06 and Ed25519 0x01)");
        }

        var key = VerifierKey.Create(name, kind, bytes.AsSpan(prefix));
        if (key.KeyId != keyId)
        {
            throw new FormatViolationException($"vkey key ID {hex} does not match its key (expected {key.KeyId:x8})");
        }

        return key;
    }

    /// <summary>Key ID = first four bytes, big-endian, of SHA-256(name || 0x0A || type identifier || public key).</summary>
    public static uint ComputeKeyId(string name, NoteKeyKind kind, ReadOnlySpan<byte> publicKey)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(Encoding.UTF8.GetBytes(name));
        ReadOnlySpan<byte> newline = [0x0a];
        h.AppendData(newline);
        h.AppendData(NoteSignatureType.Identifier(kind));
        h.AppendData(publicKey);
        Span<byte> digest = stackalloc byte[32];
        h.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt32BigEndian(digest);
    }

    /// <summary>The vkey text.</summary>
    public override string ToString()
    {
        var id = NoteSignatureType.Identifier(Kind);
        var material = new byte[id.Length + PublicKey.Length];
        id.CopyTo(material);
        PublicKey.CopyTo(material, id.Length);
        return $"{Name}+{KeyId:x8}+{Convert.ToBase64String(material)}";
    }
}
