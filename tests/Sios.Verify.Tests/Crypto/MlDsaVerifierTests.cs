using CsCheck;
using Sios.Tests.Shared;
using Sios.Verify.Crypto;

namespace Sios.Verify.Tests.Crypto;

/// <summary>MlDsaVerifier on mutations of a valid ACVP signature, and on malformed input (false, never a throw).</summary>
public class MlDsaVerifierTests
{
    public static TheoryData<string> ParameterSets => ["ML-DSA-44", "ML-DSA-65"];

    [VectorTheory]
    [MemberData(nameof(ParameterSets))]
    public void Valid_signature_verifies_and_every_mutation_fails(string parameterSet)
    {
        var (algorithm, pk, message, signature, context) = ValidCase(parameterSet);

        Assert.True(MlDsaVerifier.Verify(algorithm, pk, message, signature, context));
        Assert.False(MlDsaVerifier.Verify(algorithm, pk, message, Flip(signature, 0), context));
        Assert.False(MlDsaVerifier.Verify(algorithm, pk, message, Flip(signature, signature.Length / 2), context));
        Assert.False(MlDsaVerifier.Verify(algorithm, pk, [.. message, 0], signature, context));
        Assert.False(MlDsaVerifier.Verify(algorithm, pk, message, signature, [.. context, 0]));
        Assert.False(MlDsaVerifier.Verify(algorithm, Flip(pk, 100), message, signature, context));
    }

    [VectorTheory]
    [MemberData(nameof(ParameterSets))]
    public void Malformed_lengths_give_false(string parameterSet)
    {
        var (algorithm, pk, message, signature, context) = ValidCase(parameterSet);
        var other = algorithm == MlDsaAlgorithm.MlDsa44 ? MlDsaAlgorithm.MlDsa65 : MlDsaAlgorithm.MlDsa44;

        Assert.False(MlDsaVerifier.Verify(algorithm, pk.AsSpan(..^1), message, signature, context));
        Assert.False(MlDsaVerifier.Verify(algorithm, [.. pk, 0], message, signature, context));
        Assert.False(MlDsaVerifier.Verify(algorithm, pk, message, signature.AsSpan(..^1), context));
        Assert.False(MlDsaVerifier.Verify(algorithm, pk, message, [.. signature, 0], context));
        Assert.False(MlDsaVerifier.Verify(algorithm, pk, message, signature, new byte[256]));
        Assert.False(MlDsaVerifier.Verify(other, pk, message, signature, context));
        Assert.False(MlDsaVerifier.Verify(algorithm, [], [], []));
    }

    [Fact]
    public void Random_signatures_of_the_right_size_never_verify_and_never_throw()
    {
        var pk = new byte[MlDsaSizes.PublicKey(MlDsaAlgorithm.MlDsa44)];
        Gen.Byte.Array[MlDsaSizes.Signature(MlDsaAlgorithm.MlDsa44)]
            .Sample(signature => !MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa44, pk, "m"u8, signature), iter: 200);
    }

    [Fact]
    public void Arbitrary_inputs_never_throw()
    {
        Gen.Select(Gen.Byte.Array[0, 2000], Gen.Byte.Array[0, 3400], Gen.Byte.Array[0, 300], Gen.Bool)
            .Sample((pk, signature, context, is44) =>
            {
                var algorithm = is44 ? MlDsaAlgorithm.MlDsa44 : MlDsaAlgorithm.MlDsa65;
                return !MlDsaVerifier.Verify(algorithm, pk, "m"u8, signature, context);
            }, iter: 200);
    }

    private static (MlDsaAlgorithm, byte[] Pk, byte[] Message, byte[] Signature, byte[] Context) ValidCase(string parameterSet)
    {
        foreach (var group in Acvp.Groups(Acvp.SigVer))
        {
            if (Acvp.Kind(group) != GroupKind.Pure || Acvp.Text(group, "parameterSet") != parameterSet)
            {
                continue;
            }

            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                if (Acvp.Flag(test, "testPassed") && Acvp.Hex(test, "context").Length < 255)
                {
                    return (AcvpSigVerTests.Algorithm(parameterSet), Acvp.Hex(test, "pk"), Acvp.Hex(test, "message"),
                        Acvp.Hex(test, "signature"), Acvp.Hex(test, "context"));
                }
            }
        }

        throw new InvalidOperationException($"no passing pure {parameterSet} sigVer case");
    }

    private static byte[] Flip(byte[] bytes, int index)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] ^= 0x01;
        return copy;
    }
}
