using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Sios.Verify.Crypto;

/// <summary>ML-DSA public keys as SubjectPublicKeyInfo PEM (<c>-----BEGIN PUBLIC KEY-----</c>), per RFC 9881.</summary>
public static class PublicKeyPem
{
    /// <summary>The PEM label of a SubjectPublicKeyInfo (RFC 7468 section 13).</summary>
    public const string Label = "PUBLIC KEY";

    // An ML-DSA-65 key is about 2.7 KB of PEM; anything far larger is not a key and is not worth decoding.
    private const int MaxPemLength = 16 * 1024;

    /// <summary>
    /// Encodes a raw FIPS 204 public key as SubjectPublicKeyInfo PEM: the id-ml-dsa OID with parameters absent and
    /// the key as the BIT STRING. The text ends with a newline.
    /// </summary>
    public static string Format(MlDsaAlgorithm algorithm, ReadOnlySpan<byte> publicKey)
    {
        var expected = MlDsaSizes.PublicKey(algorithm);
        if (publicKey.Length != expected)
        {
            throw new ArgumentException(
                $"An {Name(algorithm)} public key is {expected} bytes, not {publicKey.Length}.", nameof(publicKey));
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(MlDsaSizes.Oid(algorithm));
            }

            writer.WriteBitString(publicKey);
        }

        return PemEncoding.WriteString(Label, writer.Encode()) + "\n";
    }

    /// <summary>
    /// Decodes SubjectPublicKeyInfo PEM holding an ML-DSA-44 or ML-DSA-65 key. Only whitespace may surround the
    /// PEM block. Throws <see cref="FormatViolationException"/> naming what is wrong.
    /// </summary>
    public static (MlDsaAlgorithm Algorithm, byte[] PublicKey) Parse(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (pem.Length > MaxPemLength)
        {
            throw new FormatViolationException(
                $"The public key PEM is {pem.Length} characters, more than any ML-DSA key needs ({MaxPemLength}).");
        }

        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new FormatViolationException(
                $"No valid PEM block found: expected '-----BEGIN {Label}-----' ... '-----END {Label}-----' with base64 between.");
        }

        var label = pem.AsSpan(fields.Label);
        if (!label.SequenceEqual(Label))
        {
            throw new FormatViolationException($"The PEM block is '{label}', expected '{Label}'.");
        }

        if (!pem.AsSpan(0, fields.Location.Start.Value).IsWhiteSpace()
            || !pem.AsSpan(fields.Location.End.Value).IsWhiteSpace())
        {
            throw new FormatViolationException("The public key PEM has text outside its BEGIN/END block.");
        }

        var der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(pem.AsSpan(fields.Base64Data), der, out var written) || written != der.Length)
        {
            throw new FormatViolationException("The public key PEM body is not valid base64.");
        }

        return ParseSubjectPublicKeyInfo(der);
    }

    private static (MlDsaAlgorithm Algorithm, byte[] PublicKey) ParseSubjectPublicKeyInfo(byte[] der)
    {
        string oid;
        bool hasParameters;
        byte[] key;
        int unusedBits;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var spki = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithmIdentifier = spki.ReadSequence();
            oid = algorithmIdentifier.ReadObjectIdentifier();
            hasParameters = algorithmIdentifier.HasData;
            key = spki.ReadBitString(out unusedBits);
            spki.ThrowIfNotEmpty();
        }
        catch (AsnContentException e)
        {
            throw new FormatViolationException($"The public key is not a DER SubjectPublicKeyInfo: {e.Message}", e);
        }

        MlDsaAlgorithm algorithm;
        if (oid == MlDsaSizes.Oid(MlDsaAlgorithm.MlDsa44))
        {
            algorithm = MlDsaAlgorithm.MlDsa44;
        }
        else if (oid == MlDsaSizes.Oid(MlDsaAlgorithm.MlDsa65))
        {
            algorithm = MlDsaAlgorithm.MlDsa65;
        }
        else
        {
            throw new FormatViolationException(
                $"The public key's algorithm is {oid}, not id-ml-dsa-44 ({MlDsaSizes.Oid(MlDsaAlgorithm.MlDsa44)}) " +
                $"or id-ml-dsa-65 ({MlDsaSizes.Oid(MlDsaAlgorithm.MlDsa65)}).");
        }

        if (hasParameters)
        {
            throw new FormatViolationException(
                $"The {Name(algorithm)} AlgorithmIdentifier has parameters; RFC 9881 requires them absent.");
        }

        if (unusedBits != 0 || key.Length != MlDsaSizes.PublicKey(algorithm))
        {
            throw new FormatViolationException(
                $"An {Name(algorithm)} public key is {MlDsaSizes.PublicKey(algorithm)} whole bytes; " +
                $"this one is {key.Length} bytes with {unusedBits} unused bits.");
        }

        return (algorithm, key);
    }

    private static string Name(MlDsaAlgorithm algorithm) =>
        algorithm == MlDsaAlgorithm.MlDsa44 ? "ML-DSA-44" : "ML-DSA-65";
}
