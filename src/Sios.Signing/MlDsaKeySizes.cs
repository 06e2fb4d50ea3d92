using Sios.Verify.Crypto;

namespace Sios.Signing;

/// <summary>Private-key sizes from FIPS 204 table 2 (public sizes live in <see cref="MlDsaSizes"/>).</summary>
internal static class MlDsaKeySizes
{
    /// <summary>Length of the key-generation seed ξ.</summary>
    public const int Seed = 32;

    /// <summary>Length of the per-signature randomness rnd.</summary>
    public const int Rnd = 32;

    /// <summary>Length of the expanded private key sk.</summary>
    public static int ExpandedKey(MlDsaAlgorithm algorithm) => algorithm switch
    {
        MlDsaAlgorithm.MlDsa44 => 2560,
        MlDsaAlgorithm.MlDsa65 => 4032,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>The parameter set's name as FIPS 204 writes it.</summary>
    public static string Name(MlDsaAlgorithm algorithm) => algorithm switch
    {
        MlDsaAlgorithm.MlDsa44 => "ML-DSA-44",
        MlDsaAlgorithm.MlDsa65 => "ML-DSA-65",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };
}
