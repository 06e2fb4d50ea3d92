using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Sios.Verify.Crypto;

/// <summary>RFC 8032 Ed25519 verification (pure), as used by C2SP signed notes with key type 0x01.</summary>
public static class Ed25519Verifier
{
    /// <summary>Length of an Ed25519 public key in bytes.</summary>
    public const int PublicKeySize = 32;

    /// <summary>Length of an Ed25519 signature in bytes.</summary>
    public const int SignatureSize = 64;

    /// <summary>
    /// Checks an Ed25519 signature over <paramref name="message"/>. Malformed input (wrong lengths, a public key
    /// that is not a curve point) gives false, never an exception.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey32, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature64)
    {
        if (publicKey32.Length != PublicKeySize || signature64.Length != SignatureSize)
        {
            return false;
        }

        return Ed25519.Verify(signature64, publicKey32, message);
    }
}
