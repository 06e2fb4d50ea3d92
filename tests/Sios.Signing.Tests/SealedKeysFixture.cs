using Sios.Verify.Crypto;

namespace Sios.Signing.Tests;

/// <summary>One key per parameter set, exported once (each export runs 600,000 PBKDF2 iterations).</summary>
public sealed class SealedKeysFixture : IDisposable
{
    // ASCII, so BouncyCastle's PKCS#8 classes (which feed PBES2 8-bit chars) read it the same as UTF-8 readers.
    public const string Passphrase = "correct horse battery staple";

    private readonly Dictionary<MlDsaAlgorithm, (MlDsaPrivateKey Key, string Pem)> sealedKeys = [];

    public SealedKeysFixture()
    {
        foreach (var algorithm in new[] { MlDsaAlgorithm.MlDsa44, MlDsaAlgorithm.MlDsa65 })
        {
            var key = MlDsaPrivateKey.Generate(algorithm);
            sealedKeys[algorithm] = (key, key.ExportEncryptedPem(Passphrase));
        }
    }

    public MlDsaPrivateKey Key(MlDsaAlgorithm algorithm) => sealedKeys[algorithm].Key;

    public string Pem(MlDsaAlgorithm algorithm) => sealedKeys[algorithm].Pem;

    public void Dispose()
    {
        foreach (var (key, _) in sealedKeys.Values)
        {
            key.Dispose();
        }
    }
}
