using Sios.Tests.Shared;

namespace Sios.Signing.Tests;

/// <summary>
/// NIST ACVP ML-DSA sigGen, external interface, pure mode, ML-DSA-44/65: the exact signature bytes, deterministic
/// (rnd = 0^32) and hedged (the vector's rnd).
/// </summary>
public class AcvpSigGenTests
{
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        foreach (var (group, test) in Acvp.PureCases(Acvp.SigGenPrompt))
        {
            data.Add(group.GetProperty("tgId").GetInt32(), Acvp.TcId(test));
        }

        return data;
    }

    [VectorTheory]
    [MemberData(nameof(Cases))]
    public void Sign_gives_the_vector_signature(int tgId, int tcId)
    {
        var (group, test) = Acvp.Case(Acvp.SigGenPrompt, tcId);
        var (_, expected) = Acvp.Case(Acvp.SigGenExpected, tcId);
        Assert.Equal(tgId, group.GetProperty("tgId").GetInt32());
        var algorithm = AcvpKeyGenTests.Algorithm(Acvp.Text(group, "parameterSet")!);
        var rnd = Acvp.Flag(group, "deterministic") ? new byte[32] : Acvp.Hex(test, "rnd");

        using var key = MlDsaPrivateKey.FromExpandedKey(algorithm, Acvp.Hex(test, "sk"));
        var signature = key.Sign(Acvp.Hex(test, "message"), Acvp.Hex(test, "context"), rnd);

        Assert.Equal(Convert.ToHexString(Acvp.Hex(expected, "signature")), Convert.ToHexString(signature));
    }

    [VectorFact]
    public void Every_sigGen_group_is_tested_or_explicitly_excluded()
    {
        var groups = Acvp.Groups(Acvp.SigGenPrompt).ToList();

        Assert.DoesNotContain(GroupKind.Unknown, groups.Select(Acvp.Kind));
        foreach (var parameterSet in new[] { "ML-DSA-44", "ML-DSA-65" })
        {
            foreach (var deterministic in new[] { true, false })
            {
                Assert.Contains(groups, g => Acvp.Kind(g) == GroupKind.Pure
                    && Acvp.Text(g, "parameterSet") == parameterSet
                    && Acvp.Flag(g, "deterministic") == deterministic);
            }
        }
    }

    [Fact(Skip = "SIOS signs only in FIPS 204 pure mode; HashML-DSA (preHash groups) is not used")]
    public void HashMlDsa_groups_are_not_run() => Assert.Fail("HashML-DSA is not implemented");

    [Fact(Skip = "SIOS exposes only the external ML-DSA.Sign interface; Sign_internal without a context is not reachable")]
    public void Internal_interface_groups_are_not_run() => Assert.Fail("Sign_internal is not exposed");

    [Fact(Skip = "SIOS never signs a caller-computed mu (external-mu groups); it hashes the message itself")]
    public void External_mu_groups_are_not_run() => Assert.Fail("external mu is not exposed");

    [Fact(Skip = "SIOS uses only ML-DSA-44 and ML-DSA-65; ML-DSA-87 sigGen vectors are not run")]
    public void MlDsa87_groups_are_not_run() => Assert.Fail("SIOS has no ML-DSA-87 keys");
}
