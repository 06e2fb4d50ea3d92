using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Sios.Signing;

/// <summary>
/// PKCS#8 EncryptedPrivateKeyInfo (RFC 5958 / RFC 8018 PBES2) as <c>-----BEGIN ENCRYPTED PRIVATE KEY-----</c> PEM:
/// PBKDF2 with HMAC-SHA256 and AES-256-CBC, the profile OpenSSL and .NET also write.
/// </summary>
internal static class EncryptedPrivateKeyPem
{
    public const string Label = "ENCRYPTED PRIVATE KEY";

    /// <summary>PBKDF2 iterations written (OWASP 2023 guidance for PBKDF2-HMAC-SHA256).</summary>
    public const int Iterations = 600_000;

    /// <summary>Above this a file could make loading take minutes, so it is refused rather than obeyed.</summary>
    public const int MaxIterations = 10_000_000;

    public const string Pbes2Oid = "1.2.840.113549.1.5.13";
    public const string Pbkdf2Oid = "1.2.840.113549.1.5.12";
    public const string HmacSha256Oid = "1.2.840.113549.2.9";
    public const string Aes256CbcOid = "2.16.840.1.101.3.4.1.42";

    private const int SaltSize = 16;
    private const int MinSaltSize = 8;
    private const int MaxSaltSize = 64;
    private const int KeySize = 32;
    private const int BlockSize = 16;

    // The largest ML-DSA-65 key file (seed, expanded key and public key) is under 9 KB of PEM.
    private const int MaxPemLength = 64 * 1024;

    /// <summary>Encrypts <paramref name="plaintext"/> (a DER OneAsymmetricKey) under the passphrase.</summary>
    public static string Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<char> passphrase)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var iv = RandomNumberGenerator.GetBytes(BlockSize);
        byte[] ciphertext;
        Span<byte> key = stackalloc byte[KeySize];
        try
        {
            Rfc2898DeriveBytes.Pbkdf2(passphrase, salt, key, Iterations, HashAlgorithmName.SHA256);
            using var aes = Aes.Create();
            aes.SetKey(key);
            ciphertext = aes.EncryptCbc(plaintext, iv, PaddingMode.PKCS7);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Pbes2Oid);
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Pbkdf2Oid);
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(salt);
                            writer.WriteInteger(Iterations);
                            using (writer.PushSequence())
                            {
                                writer.WriteObjectIdentifier(HmacSha256Oid);
                                writer.WriteNull();
                            }
                        }
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Aes256CbcOid);
                        writer.WriteOctetString(iv);
                    }
                }
            }

            writer.WriteOctetString(ciphertext);
        }

        return PemEncoding.WriteString(Label, writer.Encode()) + "\n";
    }

    /// <summary>
    /// Decrypts the PEM to its DER plaintext (the caller zeroes it). A file that is not a PBES2 key file this class
    /// can read throws <see cref="KeyFormatException"/>; a wrong passphrase or damaged ciphertext throws
    /// <see cref="KeyPassphraseException"/>.
    /// </summary>
    public static byte[] Decrypt(string pem, ReadOnlySpan<char> passphrase)
    {
        var parameters = ParseEnvelope(DecodePem(pem));
        Span<byte> key = stackalloc byte[KeySize];
        try
        {
            Rfc2898DeriveBytes.Pbkdf2(passphrase, parameters.Salt, key, parameters.Iterations, HashAlgorithmName.SHA256);
            using var aes = Aes.Create();
            aes.SetKey(key);
            return aes.DecryptCbc(parameters.Ciphertext, parameters.Iv, PaddingMode.PKCS7);
        }
        catch (CryptographicException e)
        {
            throw new KeyPassphraseException(KeyPassphraseException.WrongOrDamaged, e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] DecodePem(string pem)
    {
        if (pem.Length > MaxPemLength)
        {
            throw new KeyFormatException(
                $"The key file is {pem.Length} characters, more than any ML-DSA key file needs ({MaxPemLength}).");
        }

        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new KeyFormatException(
                $"The key file has no complete PEM block: expected '-----BEGIN {Label}-----', base64, " +
                $"then '-----END {Label}-----' (is it truncated?).");
        }

        var label = pem.AsSpan(fields.Label);
        if (!label.SequenceEqual(Label))
        {
            throw new KeyFormatException(
                $"The key file holds a '{label}' PEM block, expected '{Label}' (signing keys are stored encrypted).");
        }

        if (!pem.AsSpan(0, fields.Location.Start.Value).IsWhiteSpace()
            || !pem.AsSpan(fields.Location.End.Value).IsWhiteSpace())
        {
            throw new KeyFormatException("The key file has text outside its BEGIN/END block.");
        }

        var der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(pem.AsSpan(fields.Base64Data), der, out var written) || written != der.Length)
        {
            throw new KeyFormatException("The key file's PEM body is not valid base64.");
        }

        return der;
    }

    private static Pbes2Parameters ParseEnvelope(byte[] der)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();

            var scheme = info.ReadSequence();
            var schemeOid = scheme.ReadObjectIdentifier();
            if (schemeOid != Pbes2Oid)
            {
                throw new KeyFormatException(
                    $"The key is encrypted with scheme {schemeOid}; only PBES2 ({Pbes2Oid}) is supported.");
            }

            var pbes2 = scheme.ReadSequence();
            scheme.ThrowIfNotEmpty();
            var (salt, iterations) = ParseKeyDerivation(pbes2.ReadSequence());
            var iv = ParseCipher(pbes2.ReadSequence());
            pbes2.ThrowIfNotEmpty();

            var ciphertext = info.ReadOctetString();
            info.ThrowIfNotEmpty();
            if (ciphertext.Length == 0 || ciphertext.Length % BlockSize != 0)
            {
                throw new KeyFormatException(
                    $"The encrypted key is {ciphertext.Length} bytes, not a positive multiple of the AES block size.");
            }

            return new Pbes2Parameters(salt, iterations, iv, ciphertext);
        }
        catch (AsnContentException e)
        {
            throw new KeyFormatException(
                $"The key file is not a DER PKCS#8 EncryptedPrivateKeyInfo with PBES2 parameters: {e.Message}", e);
        }
    }

    private static (byte[] Salt, int Iterations) ParseKeyDerivation(AsnReader kdf)
    {
        var kdfOid = kdf.ReadObjectIdentifier();
        if (kdfOid != Pbkdf2Oid)
        {
            throw new KeyFormatException(
                $"The key's PBES2 key derivation is {kdfOid}; only PBKDF2 ({Pbkdf2Oid}) is supported.");
        }

        var parameters = kdf.ReadSequence();
        kdf.ThrowIfNotEmpty();

        var salt = parameters.ReadOctetString();
        if (salt.Length is < MinSaltSize or > MaxSaltSize)
        {
            throw new KeyFormatException(
                $"The PBKDF2 salt is {salt.Length} bytes; {MinSaltSize} to {MaxSaltSize} are accepted.");
        }

        if (!parameters.TryReadInt32(out var iterations) || iterations is < 1 or > MaxIterations)
        {
            throw new KeyFormatException(
                $"The PBKDF2 iteration count is out of range (1 to {MaxIterations:N0} accepted); " +
                "a larger count would stall loading and is refused.");
        }

        if (parameters.HasData && parameters.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
        {
            if (!parameters.TryReadInt32(out var keyLength) || keyLength != KeySize)
            {
                throw new KeyFormatException($"The PBKDF2 key length must be {KeySize} bytes for AES-256.");
            }
        }

        if (!parameters.HasData)
        {
            throw new KeyFormatException(
                $"The PBKDF2 PRF is absent, which means HMAC-SHA1; only HMAC-SHA256 ({HmacSha256Oid}) is supported.");
        }

        var prf = parameters.ReadSequence();
        parameters.ThrowIfNotEmpty();
        var prfOid = prf.ReadObjectIdentifier();
        if (prfOid != HmacSha256Oid)
        {
            throw new KeyFormatException(
                $"The PBKDF2 PRF is {prfOid}; only HMAC-SHA256 ({HmacSha256Oid}) is supported.");
        }

        if (prf.HasData)
        {
            prf.ReadNull();
        }

        prf.ThrowIfNotEmpty();
        return (salt, iterations);
    }

    private static byte[] ParseCipher(AsnReader cipher)
    {
        var cipherOid = cipher.ReadObjectIdentifier();
        if (cipherOid != Aes256CbcOid)
        {
            throw new KeyFormatException(
                $"The key is encrypted with cipher {cipherOid}; only AES-256-CBC ({Aes256CbcOid}) is supported.");
        }

        var iv = cipher.ReadOctetString();
        cipher.ThrowIfNotEmpty();
        if (iv.Length != BlockSize)
        {
            throw new KeyFormatException($"The AES-256-CBC IV is {iv.Length} bytes, not {BlockSize}.");
        }

        return iv;
    }

    private sealed record Pbes2Parameters(byte[] Salt, int Iterations, byte[] Iv, byte[] Ciphertext);
}
