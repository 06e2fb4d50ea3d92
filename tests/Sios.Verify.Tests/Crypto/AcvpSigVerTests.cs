using Sios.Tests.Shared;
using Sios.Verify.Crypto;

namespace Sios.Verify.Tests.Crypto;

/// <summary>NIST ACVP ML-DSA sigVer, external interface, pure mode, ML-DSA-44/65: Verify must equal testPassed.</summary>
public class AcvpSigVerTests
{
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        foreach (var (group, test) in Acvp.PureCases(Acvp.SigVer))
        {
            data.Add(group.GetProperty("tgId").GetInt32(), Acvp.TcId(test));
        }

        return data;
    }

    [VectorTheory]
    [MemberData(nameof(Cases))]
    public void Verify_agrees_with_the_vector(int tgId, int tcId)
    {
        var (group, test) = Acvp.Case(Acvp.SigVer, tcId);
        Assert.Equal(tgId, group.GetProperty("tgId").GetInt32());

        var verified = MlDsaVerifier.Verify(
            Algorithm(Acvp.Text(group, "parameterSet")!),
            Acvp.Hex(test, "pk"),
            Acvp.Hex(test, "message"),
            Acvp.Hex(test, "signature"),
            Acvp.Hex(test, "context"));

        Assert.True(Acvp.Flag(test, "testPassed") == verified, $"tcId {tcId} ({Acvp.Text(test, "reason")}): Verify gave {verified}");
    }

    [VectorFact]
    public void Every_sigVer_group_is_tested_or_explicitly_excluded()
    {
        var groups = Acvp.Groups(Acvp.SigVer).ToList();

        Assert.DoesNotContain(GroupKind.Unknown, groups.Select(Acvp.Kind));
        Assert.Contains(groups, g => Acvp.Kind(g) == GroupKind.Pure && Acvp.Text(g, "parameterSet") == "ML-DSA-44");
        Assert.Contains(groups, g => Acvp.Kind(g) == GroupKind.Pure && Acvp.Text(g, "parameterSet") == "ML-DSA-65");
        var pure = groups.Where(g => Acvp.Kind(g) == GroupKind.Pure).SelectMany(g => g.GetProperty("tests").EnumerateArray()).ToList();
        Assert.Contains(pure, t => Acvp.Flag(t, "testPassed"));
        Assert.Contains(pure, t => !Acvp.Flag(t, "testPassed"));
    }

    [Fact(Skip = "SIOS verifies only FIPS 204 pure-mode signatures; HashML-DSA (preHash groups) is not used")]
    public void HashMlDsa_groups_are_not_run() => Assert.Fail("HashML-DSA is not implemented");

    [Fact(Skip = "SIOS exposes only the external ML-DSA.Verify interface; Verify_internal without a context is not reachable")]
    public void Internal_interface_groups_are_not_run() => Assert.Fail("Verify_internal is not exposed");

    [Fact(Skip = "SIOS never verifies against a caller-computed mu (external-mu groups); it hashes the message itself")]
    public void External_mu_groups_are_not_run() => Assert.Fail("external mu is not exposed");

    [Fact(Skip = "SIOS uses only ML-DSA-44 and ML-DSA-65; ML-DSA-87 sigVer vectors are not run")]
    public void MlDsa87_groups_are_not_run() => Assert.Fail("SIOS has no ML-DSA-87 keys");

    internal static MlDsaAlgorithm Algorithm(string parameterSet) => parameterSet switch
    {
        "ML-DSA-44" => MlDsaAlgorithm.MlDsa44,
        "ML-DSA-65" => MlDsaAlgorithm.MlDsa65,
        _ => throw new ArgumentOutOfRangeException(nameof(parameterSet), parameterSet, "not a SIOS parameter set"),
    };
}
