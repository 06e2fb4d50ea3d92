using System.Formats.Asn1;
using System.Security.Cryptography;
using CsCheck;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Sios.Verify.Crypto;

namespace Sios.Verify.Tests.Crypto;

/// <summary>SubjectPublicKeyInfo PEM for ML-DSA keys (RFC 9881): round trip, an independent decoder, malformed input.</summary>
public class PublicKeyPemTests
{
    public static TheoryData<MlDsaAlgorithm> Algorithms => [MlDsaAlgorithm.MlDsa44, MlDsaAlgorithm.MlDsa65];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Format_then_parse_round_trips(MlDsaAlgorithm algorithm)
    {
        var publicKey = RandomNumberGenerator.GetBytes(MlDsaSizes.PublicKey(algorithm));

        var pem = PublicKeyPem.Format(algorithm, publicKey);
        var (parsedAlgorithm, parsedKey) = PublicKeyPem.Parse(pem);

        Assert.Equal(algorithm, parsedAlgorithm);
        Assert.Equal(publicKey, parsedKey);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----\n", pem, StringComparison.Ordinal);
        Assert.EndsWith("\n-----END PUBLIC KEY-----\n", pem, StringComparison.Ordinal);
        Assert.Equal(publicKey, PublicKeyPem.Parse(pem.Replace("\n", "\r\n", StringComparison.Ordinal)).PublicKey);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void BouncyCastle_reads_the_same_key(MlDsaAlgorithm algorithm)
    {
        var publicKey = RandomNumberGenerator.GetBytes(MlDsaSizes.PublicKey(algorithm));
        var pem = PublicKeyPem.Format(algorithm, publicKey);

        var decoded = Assert.IsType<MLDsaPublicKeyParameters>(PublicKeyFactory.CreateKey(Der(pem)));

        Assert.Equal(publicKey, decoded.GetEncoded());
        Assert.Equal(algorithm == MlDsaAlgorithm.MlDsa44 ? MLDsaParameters.ml_dsa_44 : MLDsaParameters.ml_dsa_65, decoded.Parameters);
    }

    [Fact]
    public void Encoding_has_absent_parameters_and_a_whole_byte_bit_string()
    {
        var pem = PublicKeyPem.Format(MlDsaAlgorithm.MlDsa65, new byte[1952]);

        var spki = new AsnReader(Der(pem), AsnEncodingRules.DER).ReadSequence();
        var algorithmIdentifier = spki.ReadSequence();
        Assert.Equal("2.16.840.1.101.3.4.3.18", algorithmIdentifier.ReadObjectIdentifier());
        Assert.False(algorithmIdentifier.HasData);
        Assert.Equal(1952, spki.ReadBitString(out var unused).Length);
        Assert.Equal(0, unused);
    }

    [Fact]
    public void Format_rejects_a_key_of_the_wrong_size()
    {
        Assert.Throws<ArgumentException>(() => PublicKeyPem.Format(MlDsaAlgorithm.MlDsa44, new byte[1952]));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "", "No valid PEM" },
        { "garbage", "No valid PEM" },
        { "-----BEGIN PUBLIC KEY-----\nMIIB\n", "No valid PEM" },
        { Pem("CERTIFICATE", Spki("2.16.840.1.101.3.4.3.17", 1312)), "CERTIFICATE" },
        { "comment\n" + Pem("PUBLIC KEY", Spki("2.16.840.1.101.3.4.3.17", 1312)), "outside" },
        { Pem("PUBLIC KEY", "hello"u8.ToArray()), "DER" },
        { Pem("PUBLIC KEY", [.. Spki("2.16.840.1.101.3.4.3.17", 1312), 0]), "DER" },
        { Pem("PUBLIC KEY", Spki("2.16.840.1.101.3.4.3.19", 2592)), "2.16.840.1.101.3.4.3.19" },
        { Pem("PUBLIC KEY", Spki("1.3.101.112", 32)), "1.3.101.112" },
        { Pem("PUBLIC KEY", Spki("2.16.840.1.101.3.4.3.17", 1312, withNullParameters: true)), "parameters" },
        { Pem("PUBLIC KEY", Spki("2.16.840.1.101.3.4.3.17", 1311)), "1311" },
        { Pem("PUBLIC KEY", Spki("2.16.840.1.101.3.4.3.18", 1312)), "1312" },
        { Pem("PUBLIC KEY", Spki("2.16.840.1.101.3.4.3.17", 1312, unusedBits: 1)), "unused" },
        { new string(' ', 20_000), "characters" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_input_is_a_format_violation_naming_the_problem(string pem, string named)
    {
        var e = Assert.Throws<FormatViolationException>(() => PublicKeyPem.Parse(pem));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupted_pem_never_throws_anything_but_a_format_violation()
    {
        var pem = PublicKeyPem.Format(MlDsaAlgorithm.MlDsa44, new byte[1312]);
        Gen.Select(Gen.Int[0, pem.Length - 1], Gen.Char.AlphaNumeric, Gen.Int[0, pem.Length])
            .Sample((at, replacement, cut) =>
            {
                var corrupted = (pem[..at] + replacement + pem[(at + 1)..])[..cut];
                try
                {
                    PublicKeyPem.Parse(corrupted);
                }
                catch (FormatViolationException)
                {
                }
            }, iter: 500);
    }

    private static byte[] Spki(string oid, int keyLength, bool withNullParameters = false, int unusedBits = 0)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(oid);
                if (withNullParameters)
                {
                    writer.WriteNull();
                }
            }

            writer.WriteBitString(new byte[keyLength], unusedBits);
        }

        return writer.Encode();
    }

    private static string Pem(string label, byte[] der) => PemEncoding.WriteString(label, der) + "\n";

    private static byte[] Der(string pem) => Convert.FromBase64String(pem[PemEncoding.Find(pem).Base64Data]);
}
