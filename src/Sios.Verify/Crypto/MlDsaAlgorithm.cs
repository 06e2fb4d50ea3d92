namespace Sios.Verify.Crypto;

/// <summary>The FIPS 204 parameter sets SIOS uses.</summary>
public enum MlDsaAlgorithm
{
    /// <summary>ML-DSA-44 (NIST level 2): the tlog-cosignature type 0x06 cosignature.</summary>
    MlDsa44,

    /// <summary>ML-DSA-65 (NIST level 3): the log's own checkpoint signature.</summary>
    MlDsa65,
}

/// <summary>Sizes and identifiers of each ML-DSA parameter set (FIPS 204 table 2).</summary>
public static class MlDsaSizes
{
    /// <summary>Public key length in bytes.</summary>
    public static int PublicKey(MlDsaAlgorithm algorithm) => algorithm switch
    {
        MlDsaAlgorithm.MlDsa44 => 1312,
        MlDsaAlgorithm.MlDsa65 => 1952,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Signature length in bytes.</summary>
    public static int Signature(MlDsaAlgorithm algorithm) => algorithm switch
    {
        MlDsaAlgorithm.MlDsa44 => 2420,
        MlDsaAlgorithm.MlDsa65 => 3309,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>The dotted OID (NIST CSOR id-ml-dsa-44 / id-ml-dsa-65).</summary>
    public static string Oid(MlDsaAlgorithm algorithm) => algorithm switch
    {
        MlDsaAlgorithm.MlDsa44 => "2.16.840.1.101.3.4.3.17",
        MlDsaAlgorithm.MlDsa65 => "2.16.840.1.101.3.4.3.18",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };
}
