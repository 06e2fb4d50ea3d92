using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Sios.Signing.Tests;

/// <summary>
/// Builds encrypted key files independently of the code under test, so tests can make every shape (the three
/// RFC 9881 CHOICEs, bad parameters, foreign algorithms) and cheap ones (few PBKDF2 iterations).
/// </summary>
internal static class KeyFileBuilder
{
    public const string Pbes2 = "1.2.840.113549.1.5.13";
    public const string Pbkdf2 = "1.2.840.113549.1.5.12";
    public const string HmacSha256 = "1.2.840.113549.2.9";
    public const string HmacSha1 = "1.2.840.113549.2.7";
    public const string Aes256Cbc = "2.16.840.1.101.3.4.1.42";
    public const string Aes128Cbc = "2.16.840.1.101.3.4.1.2";
    public const string MlDsa44 = "2.16.840.1.101.3.4.3.17";
    public const string MlDsa65 = "2.16.840.1.101.3.4.3.18";
    public const string Ed25519 = "1.3.101.112";

    /// <summary>A OneAsymmetricKey DER; <paramref name="writeChoice"/> writes the privateKey OCTET STRING contents.</summary>
    public static byte[] PrivateKeyInfo(
        string algorithmOid,
        Action<AsnWriter> writeChoice,
        byte[]? publicKey = null,
        bool withNullParameters = false)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(publicKey is null ? 0 : 1);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(algorithmOid);
                if (withNullParameters)
                {
                    writer.WriteNull();
                }
            }

            using (writer.PushOctetString())
            {
                writeChoice(writer);
            }

            if (publicKey is not null)
            {
                writer.WriteBitString(publicKey, 0, new Asn1Tag(TagClass.ContextSpecific, 1));
            }
        }

        return writer.Encode();
    }

    public static Action<AsnWriter> Seed(byte[] seed) =>
        w => w.WriteOctetString(seed, new Asn1Tag(TagClass.ContextSpecific, 0));

    public static Action<AsnWriter> Expanded(byte[] expandedKey) => w => w.WriteOctetString(expandedKey);

    public static Action<AsnWriter> Both(byte[] seed, byte[] expandedKey) => w =>
    {
        using (w.PushSequence())
        {
            w.WriteOctetString(seed);
            w.WriteOctetString(expandedKey);
        }
    };

    /// <summary>PBES2-encrypts <paramref name="plaintext"/> (PBKDF2-HMAC-SHA256, AES-256-CBC) into PEM.</summary>
    public static string Encrypt(byte[] plaintext, string passphrase, int iterations = 1_000)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var iv = RandomNumberGenerator.GetBytes(16);
        var key = Rfc2898DeriveBytes.Pbkdf2(passphrase, salt, iterations, HashAlgorithmName.SHA256, 32);
        using var aes = Aes.Create();
        aes.Key = key;
        return Envelope(salt, iterations, HmacSha256, Aes256Cbc, iv, aes.EncryptCbc(plaintext, iv));
    }

    /// <summary>An EncryptedPrivateKeyInfo PEM with the given parameters (<paramref name="prfOid"/> null = absent).</summary>
    public static string Envelope(byte[] salt, long iterations, string? prfOid, string cipherOid, byte[] iv, byte[] ciphertext)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Pbes2);
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Pbkdf2);
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(salt);
                            writer.WriteInteger(iterations);
                            if (prfOid is not null)
                            {
                                using (writer.PushSequence())
                                {
                                    writer.WriteObjectIdentifier(prfOid);
                                    writer.WriteNull();
                                }
                            }
                        }
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(cipherOid);
                        writer.WriteOctetString(iv);
                    }
                }
            }

            writer.WriteOctetString(ciphertext);
        }

        return PemEncoding.WriteString("ENCRYPTED PRIVATE KEY", writer.Encode()) + "\n";
    }

    /// <summary>An envelope whose ciphertext is never reached (the parameters are what a test is about).</summary>
    public static string EnvelopeWith(long iterations = 1_000, string? prfOid = HmacSha256, string cipherOid = Aes256Cbc, int ivLength = 16, int ciphertextLength = 64) =>
        Envelope(new byte[16], iterations, prfOid, cipherOid, new byte[ivLength], new byte[ciphertextLength]);

    /// <summary>The DER inside a PEM block.</summary>
    public static byte[] Der(string pem)
    {
        var fields = PemEncoding.Find(pem);
        return Convert.FromBase64String(pem[fields.Base64Data]);
    }

    /// <summary>Re-wraps DER as an encrypted-key PEM.</summary>
    public static string Pem(byte[] der) => PemEncoding.WriteString("ENCRYPTED PRIVATE KEY", der) + "\n";

    /// <summary>Offset and length of the encryptedData contents inside the EncryptedPrivateKeyInfo DER.</summary>
    public static (int Offset, int Length) CiphertextRange(byte[] der)
    {
        var info = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        info.ReadEncodedValue();
        var length = info.ReadOctetString().Length;

        // encryptedData is the last element, so its contents end the DER.
        return (der.Length - length, length);
    }
}
