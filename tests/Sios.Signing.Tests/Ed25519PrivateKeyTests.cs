using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Sios.Verify.Crypto;

namespace Sios.Signing.Tests;

/// <summary>Ed25519 witness keys: sign, seal, reopen; the sealed PKCS#8 is the RFC 8410 form other tools read.</summary>
public sealed class Ed25519PrivateKeyTests
{
    private const string Passphrase = "correct horse battery staple";

    [Fact]
    public void Sealed_key_reopens_and_signs_verifiably()
    {
        using var key = Ed25519PrivateKey.Generate();
        var pem = key.ExportEncryptedPem(Passphrase);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", pem, StringComparison.Ordinal);
        using var reopened = Ed25519PrivateKey.ImportEncryptedPem(pem, Passphrase);
        Assert.Equal(key.PublicKey, reopened.PublicKey);
        Assert.True(Ed25519Verifier.Verify(key.PublicKey, "m"u8, reopened.Sign("m"u8)));
        Assert.False(Ed25519Verifier.Verify(key.PublicKey, "n"u8, reopened.Sign("m"u8)));
    }

    [Fact]
    public void Wrong_passphrase_and_an_ml_dsa_file_are_refused()
    {
        using var key = Ed25519PrivateKey.Generate();
        Assert.Throws<KeyPassphraseException>(() => Ed25519PrivateKey.ImportEncryptedPem(key.ExportEncryptedPem(Passphrase), "wrong"));
        using var mlDsa = MlDsaPrivateKey.Generate(Sios.Verify.Crypto.MlDsaAlgorithm.MlDsa44);
        Assert.Throws<KeyFormatException>(() => Ed25519PrivateKey.ImportEncryptedPem(mlDsa.ExportEncryptedPem(Passphrase), Passphrase));
    }

    [Fact]
    public void Decrypted_content_is_an_rfc8410_private_key_info()
    {
        using var key = Ed25519PrivateKey.Generate();
        var der = EncryptedPrivateKeyPem.Decrypt(key.ExportEncryptedPem(Passphrase), Passphrase);
        var parsed = Assert.IsType<Ed25519PrivateKeyParameters>(PrivateKeyFactory.CreateKey(der));
        Assert.Equal(key.PublicKey, parsed.GeneratePublicKey().GetEncoded());
    }
}
