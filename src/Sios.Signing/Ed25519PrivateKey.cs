using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Sios.Signing;

/// <summary>
/// An Ed25519 (RFC 8032) signing key, for witnesses whose cosignatures Ed25519-only verifiers check
/// (c2sp.org/tlog-cosignature <c>cosignature/v1</c>); sealed at rest like the ML-DSA keys: encrypted PKCS#8 holding an
/// RFC 8410 OneAsymmetricKey.
/// </summary>
public sealed class Ed25519PrivateKey : IDisposable
{
    /// <summary>id-Ed25519 (RFC 8410).</summary>
    public const string Oid = "1.3.101.112";

    private const int SecretSize = 32;
    private readonly byte[] _secret;
    private readonly byte[] _publicKey = new byte[32];
    private int _disposed;

    private Ed25519PrivateKey(byte[] secret)
    {
        _secret = secret;
        Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.GeneratePublicKey(_secret, 0, _publicKey, 0);
    }

    /// <summary>A copy of the 32-byte public key.</summary>
    public byte[] PublicKey => (byte[])_publicKey.Clone();

    /// <summary>A new key from the OS RNG.</summary>
    public static Ed25519PrivateKey Generate() => new(RandomNumberGenerator.GetBytes(SecretSize));

    /// <summary>Signs <paramref name="message"/> (pure Ed25519, deterministic).</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var signature = new byte[64];
        Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Sign(_secret, 0, message.ToArray(), 0, message.Length, signature, 0);
        return signature;
    }

    /// <summary>Seals the key as <c>-----BEGIN ENCRYPTED PRIVATE KEY-----</c> PEM (PBES2, as <see cref="MlDsaPrivateKey.ExportEncryptedPem"/>).</summary>
    public string ExportEncryptedPem(ReadOnlySpan<char> passphrase)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (passphrase.IsEmpty)
        {
            throw new ArgumentException("An empty passphrase would leave the key unprotected; choose one.", nameof(passphrase));
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(0);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oid);
            }

            // CurvePrivateKey ::= OCTET STRING, itself wrapped in the privateKey OCTET STRING.
            var inner = new AsnWriter(AsnEncodingRules.DER);
            inner.WriteOctetString(_secret);
            writer.WriteOctetString(inner.Encode());
        }

        var plaintext = writer.Encode();
        try
        {
            return EncryptedPrivateKeyPem.Encrypt(plaintext, passphrase);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>
    /// Loads a key sealed by <see cref="ExportEncryptedPem"/>; a wrong passphrase throws <see cref="KeyPassphraseException"/>,
    /// a file of another kind <see cref="KeyFormatException"/>.
    /// </summary>
    public static Ed25519PrivateKey ImportEncryptedPem(string pem, ReadOnlySpan<char> passphrase)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var plaintext = EncryptedPrivateKeyPem.Decrypt(pem, passphrase);
        try
        {
            var reader = new AsnReader(plaintext, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            var version = info.ReadInteger();
            var algorithm = info.ReadSequence();
            var oid = algorithm.ReadObjectIdentifier();
            algorithm.ThrowIfNotEmpty();
            var secret = new AsnReader(info.ReadOctetString(), AsnEncodingRules.DER).ReadOctetString();
            if (version > 1 || !string.Equals(oid, Oid, StringComparison.Ordinal) || secret.Length != SecretSize)
            {
                throw new KeyFormatException($"The key file does not hold an Ed25519 key (algorithm {oid}).");
            }

            return new Ed25519PrivateKey(secret);
        }
        catch (AsnContentException e)
        {
            throw new KeyFormatException("The key file's decrypted content is not a PKCS#8 Ed25519 key.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Zeroes the secret; the key cannot be used afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            CryptographicOperations.ZeroMemory(_secret);
        }
    }
}
