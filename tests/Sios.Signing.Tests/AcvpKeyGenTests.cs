using Sios.Tests.Shared;
using Sios.Verify.Crypto;

namespace Sios.Signing.Tests;

/// <summary>NIST ACVP ML-DSA keyGen: KeyGen_internal(seed) must give exactly the vector's pk and sk.</summary>
public class AcvpKeyGenTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var (group, test) in Acvp.PureCases(Acvp.KeyGen))
        {
            data.Add(Acvp.Text(group, "parameterSet")!, Acvp.TcId(test));
        }

        return data;
    }

    [VectorTheory]
    [MemberData(nameof(Cases))]
    public void FromSeed_gives_the_vector_public_and_expanded_keys(string parameterSet, int tcId)
    {
        var (_, test) = Acvp.Case(Acvp.KeyGen, tcId);
        using var key = MlDsaPrivateKey.FromSeed(Algorithm(parameterSet), Acvp.Hex(test, "seed"));

        Assert.Equal(Acvp.Hex(test, "pk"), key.PublicKey);
        Assert.Equal(Acvp.Hex(test, "sk"), key.ExportExpandedKey());
        Assert.True(key.HasSeed);
    }

    [VectorFact]
    public void Every_keyGen_group_is_tested_or_explicitly_excluded()
    {
        var kinds = Acvp.Groups(Acvp.KeyGen).Select(Acvp.Kind).ToList();

        Assert.DoesNotContain(GroupKind.Unknown, kinds);
        Assert.Equal(2, kinds.Count(k => k == GroupKind.Pure));
        Assert.All(kinds, k => Assert.True(k is GroupKind.Pure or GroupKind.MlDsa87, $"unexpected keyGen group kind {k}"));
    }

    [Fact(Skip = "SIOS uses only ML-DSA-44 and ML-DSA-65; ML-DSA-87 keyGen vectors are not run")]
    public void MlDsa87_key_generation_is_not_supported() => Assert.Fail("SIOS has no ML-DSA-87 keys");

    internal static MlDsaAlgorithm Algorithm(string parameterSet) => parameterSet switch
    {
        "ML-DSA-44" => MlDsaAlgorithm.MlDsa44,
        "ML-DSA-65" => MlDsaAlgorithm.MlDsa65,
        _ => throw new ArgumentOutOfRangeException(nameof(parameterSet), parameterSet, "not a SIOS parameter set"),
    };
}
