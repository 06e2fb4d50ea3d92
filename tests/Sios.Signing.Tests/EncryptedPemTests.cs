using System.Formats.Asn1;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Sios.Verify.Crypto;

namespace Sios.Signing.Tests;

/// <summary>Keys at rest: encrypted PKCS#8 export and import, and every way a key file can be wrong.</summary>
public class EncryptedPemTests(SealedKeysFixture keys) : IClassFixture<SealedKeysFixture>
{
    private const string Passphrase = SealedKeysFixture.Passphrase;

    public static TheoryData<MlDsaAlgorithm> Algorithms => [MlDsaAlgorithm.MlDsa44, MlDsaAlgorithm.MlDsa65];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Imported_key_is_the_exported_key_and_signs(MlDsaAlgorithm algorithm)
    {
        var original = keys.Key(algorithm);
        using var imported = MlDsaPrivateKey.ImportEncryptedPem(keys.Pem(algorithm), Passphrase);

        Assert.Equal(algorithm, imported.Algorithm);
        Assert.True(imported.HasSeed);
        Assert.Equal(original.PublicKey, imported.PublicKey);
        Assert.Equal(original.ExportExpandedKey(), imported.ExportExpandedKey());
        var message = "checkpoint body\n"u8.ToArray();
        Assert.True(MlDsaVerifier.Verify(algorithm, original.PublicKey, message, imported.Sign(message)));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Pem_armor_is_exact(MlDsaAlgorithm algorithm)
    {
        var pem = keys.Pem(algorithm);
        var lines = pem.Split('\n');

        Assert.Equal("-----BEGIN ENCRYPTED PRIVATE KEY-----", lines[0]);
        Assert.Equal("-----END ENCRYPTED PRIVATE KEY-----", lines[^2]);
        Assert.Equal("", lines[^1]);
        Assert.All(lines[1..^2], line => Assert.InRange(line.Length, 1, 64));
        Assert.DoesNotContain('\r', pem);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void BouncyCastle_pkcs8_decrypts_the_same_key(MlDsaAlgorithm algorithm)
    {
        var key = keys.Key(algorithm);
        var envelope = BouncyCastleKeyFile.Envelope(keys.Pem(algorithm));

        var decoded = Assert.IsType<MLDsaPrivateKeyParameters>(
            PrivateKeyFactory.DecryptKey(Passphrase.ToCharArray(), envelope));

        Assert.Equal(key.PublicKey, decoded.GetPublicKeyEncoded());
        Assert.Equal(key.ExportExpandedKey(), decoded.GetEncoded());
        Assert.NotNull(decoded.GetSeed());
    }

    [Fact]
    public void Non_ascii_passphrase_is_applied_as_utf8()
    {
        const string passphrase = "mot de passe \u00e9t\u00e9 \u2713";
        var key = keys.Key(MlDsaAlgorithm.MlDsa44);
        var pem = key.ExportEncryptedPem(passphrase);

        var info = BouncyCastleKeyFile.Decrypt(pem, passphrase);
        using var imported = MlDsaPrivateKey.ImportEncryptedPem(pem, passphrase);

        Assert.Equal(key.PublicKey, info.PublicKey.GetOctets());
        Assert.Equal(key.PublicKey, imported.PublicKey);
    }

    [Fact]
    public void Seed_key_is_written_as_the_seed_choice_with_its_public_key()
    {
        var key = keys.Key(MlDsaAlgorithm.MlDsa65);
        var info = BouncyCastleKeyFile.Decrypt(keys.Pem(MlDsaAlgorithm.MlDsa65), Passphrase);

        Assert.Equal(KeyFileBuilder.MlDsa65, info.PrivateKeyAlgorithm.Algorithm.Id);
        Assert.Null(info.PrivateKeyAlgorithm.Parameters);
        var choice = info.PrivateKey.GetOctets();
        Assert.Equal(new byte[] { 0x80, 0x20 }, choice[..2]);
        Assert.Equal(34, choice.Length);
        Assert.Equal(key.PublicKey, info.PublicKey.GetOctets());
    }

    [Fact]
    public void Wrong_passphrase_is_a_passphrase_error()
    {
        var e = Assert.Throws<KeyPassphraseException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(keys.Pem(MlDsaAlgorithm.MlDsa44), "not the passphrase"));

        Assert.Contains("wrong passphrase, or the key file is damaged", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(40)]
    [InlineData(44)]
    [InlineData(-700)]
    [InlineData(-17)]
    [InlineData(-1)]
    public void Flipped_ciphertext_byte_is_a_passphrase_error(int position)
    {
        var der = KeyFileBuilder.Der(keys.Pem(MlDsaAlgorithm.MlDsa44));
        var (offset, length) = KeyFileBuilder.CiphertextRange(der);
        der[offset + (position >= 0 ? position : length + position)] ^= 0x01;

        Assert.Throws<KeyPassphraseException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Pem(der), Passphrase));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n")]
    [InlineData("-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n")]
    public void Garbage_is_a_format_error(string pem)
    {
        Assert.Throws<KeyFormatException>(() => MlDsaPrivateKey.ImportEncryptedPem(pem, Passphrase));
    }

    [Fact]
    public void Truncated_file_is_a_format_error()
    {
        var pem = keys.Pem(MlDsaAlgorithm.MlDsa65);

        Assert.Throws<KeyFormatException>(() => MlDsaPrivateKey.ImportEncryptedPem(pem[..(pem.Length / 2)], Passphrase));
        var lines = pem.Split('\n').ToList();
        lines.RemoveAt(lines.Count / 2);
        Assert.Throws<KeyFormatException>(() => MlDsaPrivateKey.ImportEncryptedPem(string.Join('\n', lines), Passphrase));
    }

    [Fact]
    public void Text_around_the_block_is_a_format_error()
    {
        var pem = "notes: my key\n" + keys.Pem(MlDsaAlgorithm.MlDsa44);

        var e = Assert.Throws<KeyFormatException>(() => MlDsaPrivateKey.ImportEncryptedPem(pem, Passphrase));
        Assert.Contains("outside", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10_000_001L, "iteration count")]
    [InlineData(1L << 40, "iteration count")]
    [InlineData(0L, "iteration count")]
    public void Iteration_count_out_of_range_is_a_format_error(long iterations, string named)
    {
        var e = Assert.Throws<KeyFormatException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.EnvelopeWith(iterations), Passphrase));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_prf_is_a_format_error_naming_it()
    {
        var e = Assert.Throws<KeyFormatException>(() => MlDsaPrivateKey.ImportEncryptedPem(
            KeyFileBuilder.EnvelopeWith(prfOid: KeyFileBuilder.HmacSha1), Passphrase));

        Assert.Contains(KeyFileBuilder.HmacSha1, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Absent_prf_means_sha1_and_is_a_format_error()
    {
        var e = Assert.Throws<KeyFormatException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.EnvelopeWith(prfOid: null), Passphrase));

        Assert.Contains("HMAC-SHA1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_cipher_is_a_format_error_naming_it()
    {
        var e = Assert.Throws<KeyFormatException>(() => MlDsaPrivateKey.ImportEncryptedPem(
            KeyFileBuilder.EnvelopeWith(cipherOid: KeyFileBuilder.Aes128Cbc), Passphrase));

        Assert.Contains(KeyFileBuilder.Aes128Cbc, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8, 64)]
    [InlineData(16, 63)]
    [InlineData(16, 0)]
    public void Bad_iv_or_ciphertext_length_is_a_format_error(int ivLength, int ciphertextLength)
    {
        Assert.Throws<KeyFormatException>(() => MlDsaPrivateKey.ImportEncryptedPem(
            KeyFileBuilder.EnvelopeWith(ivLength: ivLength, ciphertextLength: ciphertextLength), Passphrase));
    }

    [Fact]
    public void Both_choice_that_agrees_imports()
    {
        var seed = RandomNumberGenerator.GetBytes(32);
        using var reference = MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, seed);
        var plaintext = KeyFileBuilder.PrivateKeyInfo(
            KeyFileBuilder.MlDsa44, KeyFileBuilder.Both(seed, reference.ExportExpandedKey()));

        using var imported = MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext, Passphrase), Passphrase);

        Assert.Equal(reference.PublicKey, imported.PublicKey);
        Assert.True(imported.HasSeed);
    }

    [Fact]
    public void Both_choice_that_disagrees_is_rejected()
    {
        using var first = MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, new byte[32]);
        using var second = MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, Enumerable.Repeat((byte)1, 32).ToArray());
        var plaintext = KeyFileBuilder.PrivateKeyInfo(
            KeyFileBuilder.MlDsa44, KeyFileBuilder.Both(new byte[32], second.ExportExpandedKey()));

        Assert.Throws<KeyPassphraseException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext, Passphrase), Passphrase));
    }

    [Fact]
    public void Stored_public_key_of_another_key_is_rejected()
    {
        using var other = MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, new byte[32]);
        var plaintext = KeyFileBuilder.PrivateKeyInfo(
            KeyFileBuilder.MlDsa65, KeyFileBuilder.Seed(Enumerable.Repeat((byte)7, 32).ToArray()), other.PublicKey);

        Assert.Throws<KeyPassphraseException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext, Passphrase), Passphrase));
    }

    [Fact]
    public void Seed_only_v1_file_without_public_key_imports()
    {
        var seed = RandomNumberGenerator.GetBytes(32);
        using var reference = MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, seed);
        var plaintext = KeyFileBuilder.PrivateKeyInfo(KeyFileBuilder.MlDsa65, KeyFileBuilder.Seed(seed));

        using var imported = MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext, Passphrase), Passphrase);

        Assert.Equal(reference.PublicKey, imported.PublicKey);
    }

    [Fact]
    public void Expanded_choice_with_a_damaged_key_is_rejected()
    {
        using var reference = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);
        var expanded = reference.ExportExpandedKey();
        expanded[64] ^= 0x01;
        var plaintext = KeyFileBuilder.PrivateKeyInfo(KeyFileBuilder.MlDsa44, KeyFileBuilder.Expanded(expanded));

        Assert.Throws<KeyPassphraseException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext, Passphrase), Passphrase));
    }

    [Fact]
    public void Key_without_seed_round_trips_as_the_expanded_choice()
    {
        using var reference = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);
        using var seedless = MlDsaPrivateKey.FromExpandedKey(MlDsaAlgorithm.MlDsa44, reference.ExportExpandedKey());

        var pem = seedless.ExportEncryptedPem(Passphrase);
        var info = BouncyCastleKeyFile.Decrypt(pem, Passphrase);
        using var imported = MlDsaPrivateKey.ImportEncryptedPem(pem, Passphrase);

        Assert.Equal(0x04, info.PrivateKey.GetOctets()[0]);
        Assert.False(imported.HasSeed);
        Assert.Equal(reference.ExportExpandedKey(), imported.ExportExpandedKey());
        var message = "m"u8.ToArray();
        Assert.True(MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa44, reference.PublicKey, message, imported.Sign(message)));
    }

    [Fact]
    public void Foreign_algorithm_is_a_format_error_naming_it()
    {
        var plaintext = KeyFileBuilder.PrivateKeyInfo(KeyFileBuilder.Ed25519, w => w.WriteOctetString(new byte[32]));

        var e = Assert.Throws<KeyFormatException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext, Passphrase), Passphrase));
        Assert.Contains(KeyFileBuilder.Ed25519, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Algorithm_parameters_are_a_format_error()
    {
        var plaintext = KeyFileBuilder.PrivateKeyInfo(
            KeyFileBuilder.MlDsa44, KeyFileBuilder.Seed(new byte[32]), withNullParameters: true);

        var e = Assert.Throws<KeyFormatException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext, Passphrase), Passphrase));
        Assert.Contains("parameters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_seed_length_is_a_format_error()
    {
        var plaintext = KeyFileBuilder.PrivateKeyInfo(KeyFileBuilder.MlDsa44, KeyFileBuilder.Seed(new byte[31]));

        var e = Assert.Throws<KeyFormatException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext, Passphrase), Passphrase));
        Assert.Contains("seed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decrypted_garbage_is_a_passphrase_error()
    {
        var plaintext = new AsnWriter(AsnEncodingRules.DER);
        plaintext.WriteOctetString(RandomNumberGenerator.GetBytes(40));

        Assert.Throws<KeyPassphraseException>(
            () => MlDsaPrivateKey.ImportEncryptedPem(KeyFileBuilder.Encrypt(plaintext.Encode(), Passphrase), Passphrase));
    }

    [Fact]
    public void Empty_passphrase_is_refused_on_export()
    {
        Assert.Throws<ArgumentException>(() => keys.Key(MlDsaAlgorithm.MlDsa44).ExportEncryptedPem(""));
    }
}
