using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Sios.Verify.Crypto;

/// <summary>FIPS 204 ML-DSA.Verify in pure mode: .NET's own ML-DSA where the platform has it, else BouncyCastle.</summary>
public static class MlDsaVerifier
{
    /// <summary>The longest context string FIPS 204 allows, in bytes.</summary>
    public const int MaxContextLength = 255;

    /// <summary>
    /// Checks an ML-DSA signature (FIPS 204 Algorithm 3, pure mode) over <paramref name="message"/> with
    /// <paramref name="context"/>. Malformed input (wrong key or signature length, context over 255 bytes) gives
    /// false, never an exception. Safe to call from many threads at once.
    /// </summary>
    public static bool Verify(
        MlDsaAlgorithm algorithm,
        ReadOnlySpan<byte> publicKey,
        ReadOnlySpan<byte> message,
        ReadOnlySpan<byte> signature,
        ReadOnlySpan<byte> context = default)
    {
        if (publicKey.Length != MlDsaSizes.PublicKey(algorithm)
            || signature.Length != MlDsaSizes.Signature(algorithm)
            || context.Length > MaxContextLength)
        {
            return false;
        }

        return MLDsa.IsSupported
            ? VerifyWithPlatform(algorithm, publicKey, message, signature, context)
            : VerifyWithBouncyCastle(algorithm, publicKey, message, signature, context);
    }

    private static bool VerifyWithPlatform(
        MlDsaAlgorithm algorithm,
        ReadOnlySpan<byte> publicKey,
        ReadOnlySpan<byte> message,
        ReadOnlySpan<byte> signature,
        ReadOnlySpan<byte> context)
    {
        var platformAlgorithm = algorithm == MlDsaAlgorithm.MlDsa44 ? MLDsaAlgorithm.MLDsa44 : MLDsaAlgorithm.MLDsa65;
        using var key = MLDsa.ImportMLDsaPublicKey(platformAlgorithm, publicKey);
        return key.VerifyData(message, signature, context);
    }

    private static bool VerifyWithBouncyCastle(
        MlDsaAlgorithm algorithm,
        ReadOnlySpan<byte> publicKey,
        ReadOnlySpan<byte> message,
        ReadOnlySpan<byte> signature,
        ReadOnlySpan<byte> context)
    {
        var parameters = algorithm == MlDsaAlgorithm.MlDsa44 ? MLDsaParameters.ml_dsa_44 : MLDsaParameters.ml_dsa_65;
        ICipherParameters key = MLDsaPublicKeyParameters.FromEncoding(parameters, publicKey.ToArray());
        if (!context.IsEmpty)
        {
            key = new ParametersWithContext(key, context);
        }

        // BouncyCastle signers keep per-message state, so each call builds its own.
        var verifier = new MLDsaSigner(parameters, deterministic: true);
        verifier.Init(false, key);
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature.ToArray());
    }
}
