using System.Security.Cryptography;
using Sios.Verify.Crypto;

namespace Sios.Signing;

/// <summary>An ML-DSA private key held by .NET's own <see cref="MLDsa"/> (where the platform supports it).</summary>
internal sealed class PlatformMlDsaKey : IMlDsaKeyBackend
{
    private readonly MlDsaAlgorithm algorithm;
    private readonly MLDsa key;

    private PlatformMlDsaKey(MlDsaAlgorithm algorithm, MLDsa key, bool hasSeed)
    {
        this.algorithm = algorithm;
        this.key = key;
        HasSeed = hasSeed;
        PublicKey = key.ExportMLDsaPublicKey();
    }

    public byte[] PublicKey { get; }

    public bool HasSeed { get; }

    /// <summary>FIPS 204 ML-DSA.KeyGen_internal(ξ).</summary>
    public static PlatformMlDsaKey FromSeed(MlDsaAlgorithm algorithm, ReadOnlySpan<byte> seed) =>
        new(algorithm, MLDsa.ImportMLDsaPrivateSeed(Platform(algorithm), seed), hasSeed: true);

    /// <summary>Loads a FIPS 204 expanded private key (no seed).</summary>
    public static PlatformMlDsaKey FromExpandedKey(MlDsaAlgorithm algorithm, ReadOnlySpan<byte> expandedKey) =>
        new(algorithm, MLDsa.ImportMLDsaPrivateKey(Platform(algorithm), expandedKey), hasSeed: false);

    public byte[] ExportSeed() =>
        HasSeed ? key.ExportMLDsaPrivateSeed() : throw new InvalidOperationException("This key was loaded without its seed.");

    public byte[] ExportExpandedKey() => key.ExportMLDsaPrivateKey();

    public byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> context)
    {
        var signature = new byte[MlDsaSizes.Signature(algorithm)];
        key.SignData(message, signature, context);
        return signature;
    }

    public byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> context, ReadOnlySpan<byte> rnd)
    {
        // .NET's MLDsa has no way to pass rnd in, so an explicit rnd goes through BouncyCastle with the same key.
        var secret = HasSeed ? ExportSeed() : ExportExpandedKey();
        try
        {
            using var twin = HasSeed
                ? BouncyCastleMlDsaKey.FromSeed(algorithm, secret)
                : BouncyCastleMlDsaKey.FromExpandedKey(algorithm, secret);
            return twin.Sign(message, context, rnd);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    public void Dispose() => key.Dispose();

    private static MLDsaAlgorithm Platform(MlDsaAlgorithm algorithm) => algorithm switch
    {
        MlDsaAlgorithm.MlDsa44 => MLDsaAlgorithm.MLDsa44,
        MlDsaAlgorithm.MlDsa65 => MLDsaAlgorithm.MLDsa65,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };
}
