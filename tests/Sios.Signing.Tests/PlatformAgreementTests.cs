using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Sios.Verify.Crypto;

namespace Sios.Signing.Tests;

/// <summary>A fact that runs only where .NET's own ML-DSA works (OpenSSL 3.5+ or Windows CNG with ML-DSA).</summary>
internal sealed class PlatformMlDsaFactAttribute : FactAttribute
{
    public PlatformMlDsaFactAttribute()
    {
        if (!MLDsa.IsSupported)
        {
            Skip = "MLDsa.IsSupported is false here (needs OpenSSL 3.5+); only the BouncyCastle backend can run";
        }
    }
}

/// <summary>Where both backends exist, they must derive the same keys and accept each other's signatures.</summary>
public class PlatformAgreementTests
{
    [PlatformMlDsaFact]
    public void Both_backends_derive_the_same_keys_and_cross_verify()
    {
        foreach (var algorithm in new[] { MlDsaAlgorithm.MlDsa44, MlDsaAlgorithm.MlDsa65 })
        {
            var seed = RandomNumberGenerator.GetBytes(32);
            using var platform = PlatformMlDsaKey.FromSeed(algorithm, seed);
            using var bouncyCastle = BouncyCastleMlDsaKey.FromSeed(algorithm, seed);
            var message = "agreement"u8.ToArray();
            var context = "ctx"u8.ToArray();

            Assert.Equal(bouncyCastle.PublicKey, platform.PublicKey);
            Assert.Equal(bouncyCastle.ExportExpandedKey(), platform.ExportExpandedKey());
            Assert.Equal(bouncyCastle.Sign(message, context, new byte[32]), platform.Sign(message, context, new byte[32]));
            using var verifier = MLDsa.ImportMLDsaPublicKey(
                algorithm == MlDsaAlgorithm.MlDsa44 ? MLDsaAlgorithm.MLDsa44 : MLDsaAlgorithm.MLDsa65, platform.PublicKey);
            Assert.True(verifier.VerifyData(message, bouncyCastle.Sign(message, context), context));
            var bouncyCastleVerifier = new MLDsaSigner(
                algorithm == MlDsaAlgorithm.MlDsa44 ? MLDsaParameters.ml_dsa_44 : MLDsaParameters.ml_dsa_65, deterministic: true);
            bouncyCastleVerifier.Init(false, new ParametersWithContext(
                MLDsaPublicKeyParameters.FromEncoding(
                    algorithm == MlDsaAlgorithm.MlDsa44 ? MLDsaParameters.ml_dsa_44 : MLDsaParameters.ml_dsa_65, platform.PublicKey),
                context));
            bouncyCastleVerifier.BlockUpdate(message);
            Assert.True(bouncyCastleVerifier.VerifySignature(platform.Sign(message, context)));
        }
    }
}
