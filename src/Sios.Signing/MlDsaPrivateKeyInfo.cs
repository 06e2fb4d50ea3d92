using System.Formats.Asn1;
using Sios.Verify.Crypto;

namespace Sios.Signing;

/// <summary>
/// The RFC 5958 OneAsymmetricKey for an ML-DSA key, with the RFC 9881 private key CHOICE:
/// <c>seed [0] IMPLICIT OCTET STRING (32)</c>, <c>expandedKey OCTET STRING</c>, or <c>both SEQUENCE { seed, expandedKey }</c>.
/// </summary>
/// <remarks>
/// Keys are written as version 2 with the optional publicKey field. PBES2-CBC has no integrity check, so a damaged
/// ciphertext block inside the seed would otherwise decrypt to a different, valid-looking key; comparing the public
/// key derived on import with the stored one turns that into an error instead.
/// </remarks>
internal static class MlDsaPrivateKeyInfo
{
    private static readonly Asn1Tag SeedTag = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag AttributesTag = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag PublicKeyTag = new(TagClass.ContextSpecific, 1);

    /// <summary>Encodes a key; exactly one of <paramref name="seed"/> and <paramref name="expandedKey"/> is non-empty.</summary>
    public static byte[] Encode(
        MlDsaAlgorithm algorithm,
        ReadOnlySpan<byte> seed,
        ReadOnlySpan<byte> expandedKey,
        ReadOnlySpan<byte> publicKey)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        try
        {
            using (writer.PushSequence())
            {
                writer.WriteInteger(1);
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(MlDsaSizes.Oid(algorithm));
                }

                using (writer.PushOctetString())
                {
                    if (!seed.IsEmpty)
                    {
                        writer.WriteOctetString(seed, SeedTag);
                    }
                    else
                    {
                        writer.WriteOctetString(expandedKey);
                    }
                }

                writer.WriteBitString(publicKey, 0, PublicKeyTag);
            }

            return writer.Encode();
        }
        finally
        {
            // The writer's buffer holds the secret; Reset clears it.
            writer.Reset();
        }
    }

    /// <summary>
    /// Decodes a decrypted OneAsymmetricKey. The returned parts are slices of <paramref name="der"/> (absent = empty).
    /// Content that is not DER throws <see cref="KeyPassphraseException"/>, because after unauthenticated decryption
    /// garbage means a wrong passphrase or damage; well-formed content that is not an ML-DSA-44/65 key throws
    /// <see cref="KeyFormatException"/>.
    /// </summary>
    public static DecodedKey Decode(ReadOnlyMemory<byte> der)
    {
        int version;
        string oid;
        bool hasParameters;
        ReadOnlyMemory<byte> privateKey;
        ReadOnlyMemory<byte> publicKey = default;
        int publicKeyUnusedBits = 0;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            if (!info.TryReadInt32(out version))
            {
                version = -1;
            }

            var algorithmIdentifier = info.ReadSequence();
            oid = algorithmIdentifier.ReadObjectIdentifier();
            hasParameters = algorithmIdentifier.HasData;
            privateKey = ReadPrimitiveOctetString(info, Asn1Tag.PrimitiveOctetString);
            if (info.HasData && info.PeekTag() == AttributesTag)
            {
                info.ReadEncodedValue();
            }

            if (info.HasData)
            {
                if (!info.TryReadPrimitiveBitString(out publicKeyUnusedBits, out publicKey, PublicKeyTag))
                {
                    throw new AsnContentException("The publicKey BIT STRING is not primitive.");
                }
            }

            info.ThrowIfNotEmpty();
        }
        catch (AsnContentException e)
        {
            throw new KeyPassphraseException(KeyPassphraseException.WrongOrDamaged, e);
        }

        var algorithm = Algorithm(oid);
        var name = MlDsaKeySizes.Name(algorithm);
        if (version is not (0 or 1))
        {
            throw new KeyFormatException($"The private key has version {version}; OneAsymmetricKey allows v1 (0) or v2 (1).");
        }

        if (version == 0 && !publicKey.IsEmpty)
        {
            throw new KeyFormatException("The private key is version 1 (0) yet carries a public key, which needs version 2 (1).");
        }

        if (hasParameters)
        {
            throw new KeyFormatException($"The {name} AlgorithmIdentifier has parameters; RFC 9881 requires them absent.");
        }

        // The stored public key exists only as a check on the rest, so a malformed one means damage.
        if (!publicKey.IsEmpty && (publicKeyUnusedBits != 0 || publicKey.Length != MlDsaSizes.PublicKey(algorithm)))
        {
            throw new KeyPassphraseException();
        }

        var (seed, expandedKey) = DecodeChoice(privateKey, algorithm);
        return new DecodedKey(algorithm, seed, expandedKey, publicKey);
    }

    private static (ReadOnlyMemory<byte> Seed, ReadOnlyMemory<byte> ExpandedKey) DecodeChoice(
        ReadOnlyMemory<byte> privateKey,
        MlDsaAlgorithm algorithm)
    {
        ReadOnlyMemory<byte> seed = default;
        ReadOnlyMemory<byte> expandedKey = default;
        bool hasSeed;
        bool hasExpandedKey;
        try
        {
            var reader = new AsnReader(privateKey, AsnEncodingRules.DER);
            var tag = reader.PeekTag();
            hasSeed = tag == SeedTag || tag == Asn1Tag.Sequence;
            hasExpandedKey = tag == Asn1Tag.PrimitiveOctetString || tag == Asn1Tag.Sequence;
            if (tag == SeedTag)
            {
                seed = ReadPrimitiveOctetString(reader, SeedTag);
            }
            else if (tag == Asn1Tag.PrimitiveOctetString)
            {
                expandedKey = ReadPrimitiveOctetString(reader, Asn1Tag.PrimitiveOctetString);
            }
            else if (tag == Asn1Tag.Sequence)
            {
                var both = reader.ReadSequence();
                seed = ReadPrimitiveOctetString(both, Asn1Tag.PrimitiveOctetString);
                expandedKey = ReadPrimitiveOctetString(both, Asn1Tag.PrimitiveOctetString);
                both.ThrowIfNotEmpty();
            }
            else
            {
                throw new AsnContentException($"The private key CHOICE has tag {tag}, not seed, expandedKey or both.");
            }

            reader.ThrowIfNotEmpty();
        }
        catch (AsnContentException e)
        {
            throw new KeyPassphraseException(KeyPassphraseException.WrongOrDamaged, e);
        }

        var name = MlDsaKeySizes.Name(algorithm);
        if (hasSeed && seed.Length != MlDsaKeySizes.Seed)
        {
            throw new KeyFormatException($"The {name} seed is {seed.Length} bytes, not {MlDsaKeySizes.Seed}.");
        }

        if (hasExpandedKey && expandedKey.Length != MlDsaKeySizes.ExpandedKey(algorithm))
        {
            throw new KeyFormatException(
                $"The {name} expanded key is {expandedKey.Length} bytes, not {MlDsaKeySizes.ExpandedKey(algorithm)}.");
        }

        return (seed, expandedKey);
    }

    private static ReadOnlyMemory<byte> ReadPrimitiveOctetString(AsnReader reader, Asn1Tag tag) =>
        reader.TryReadPrimitiveOctetString(out var contents, tag)
            ? contents
            : throw new AsnContentException("An OCTET STRING is not primitive, which DER forbids.");

    private static MlDsaAlgorithm Algorithm(string oid)
    {
        if (oid == MlDsaSizes.Oid(MlDsaAlgorithm.MlDsa44))
        {
            return MlDsaAlgorithm.MlDsa44;
        }

        if (oid == MlDsaSizes.Oid(MlDsaAlgorithm.MlDsa65))
        {
            return MlDsaAlgorithm.MlDsa65;
        }

        throw new KeyFormatException(
            $"The key file holds a key for algorithm {oid}, not id-ml-dsa-44 ({MlDsaSizes.Oid(MlDsaAlgorithm.MlDsa44)}) " +
            $"or id-ml-dsa-65 ({MlDsaSizes.Oid(MlDsaAlgorithm.MlDsa65)}).");
    }

    /// <summary>The parts of a decoded key; absent parts are empty.</summary>
    internal readonly record struct DecodedKey(
        MlDsaAlgorithm Algorithm,
        ReadOnlyMemory<byte> Seed,
        ReadOnlyMemory<byte> ExpandedKey,
        ReadOnlyMemory<byte> PublicKey);
}
