using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Paddings;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Utilities.IO.Pem;

namespace Sios.Signing.Tests;

/// <summary>Opens an encrypted key file with BouncyCastle's PKCS#8 and PBES2 classes, an implementation independent of ours.</summary>
internal static class BouncyCastleKeyFile
{
    public static EncryptedPrivateKeyInfo Envelope(string pem)
    {
        using var reader = new PemReader(new StringReader(pem));
        var block = reader.ReadPemObject();
        Assert.Equal("ENCRYPTED PRIVATE KEY", block.Type);
        return EncryptedPrivateKeyInfo.GetInstance(block.Content);
    }

    /// <summary>Checks the PBES2 profile and decrypts to the PrivateKeyInfo, using only BouncyCastle primitives.</summary>
    public static PrivateKeyInfo Decrypt(string pem, string passphrase)
    {
        var envelope = Envelope(pem);
        Assert.Equal(PkcsObjectIdentifiers.IdPbeS2, envelope.EncryptionAlgorithm.Algorithm);
        var pbes2 = PbeS2Parameters.GetInstance(envelope.EncryptionAlgorithm.Parameters);
        Assert.Equal(PkcsObjectIdentifiers.IdPbkdf2, pbes2.KeyDerivationFunc.Algorithm);
        var kdf = Pbkdf2Params.GetInstance(pbes2.KeyDerivationFunc.Parameters);
        Assert.Equal(600_000, kdf.IterationCount.IntValueExact);
        Assert.Equal(16, kdf.GetSalt().Length);
        Assert.Equal(PkcsObjectIdentifiers.IdHmacWithSha256, kdf.Prf.Algorithm);
        Assert.Equal(NistObjectIdentifiers.IdAes256Cbc, pbes2.EncryptionScheme.Algorithm);
        var iv = Org.BouncyCastle.Asn1.Asn1OctetString.GetInstance(pbes2.EncryptionScheme.Parameters).GetOctets();
        Assert.Equal(16, iv.Length);

        var generator = new Pkcs5S2ParametersGenerator(new Sha256Digest());
        generator.Init(PbeParametersGenerator.Pkcs5PasswordToUtf8Bytes(passphrase.ToCharArray()), kdf.GetSalt(), kdf.IterationCount.IntValueExact);
        var key = (KeyParameter)generator.GenerateDerivedMacParameters(256);
        var cipher = new PaddedBufferedBlockCipher(new CbcBlockCipher(new AesEngine()), new Pkcs7Padding());
        cipher.Init(false, new ParametersWithIV(key, iv));
        var plaintext = cipher.DoFinal(envelope.GetEncryptedData());
        return PrivateKeyInfo.GetInstance(plaintext);
    }
}
