using System.Text.Json;
using Sios.Tests.Shared;
using Sios.Verify.Merkle;

namespace Sios.Verify.Tests.Merkle;

/// <summary>The transparency-dev/merkle proof verification vectors, read in place from shared/vectors.</summary>
public class TransparencyDevVectorTests
{
    private const string Base = "merkle/testdata";

    public static TheoryData<string> InclusionCases() => CasesUnder("inclusion");

    public static TheoryData<string> ConsistencyCases() => CasesUnder("consistency");

    [VectorTheory]
    [MemberData(nameof(InclusionCases))]
    public void Inclusion_case_matches_wantErr(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Vectors.PathOf(file)));
        var root = json.RootElement;

        // The Go vectors use uint64; 2^64-1 (a wrapped "index - 1") has the bits of -1, which must be rejected.
        var index = unchecked((long)root.GetProperty("leafIdx").GetUInt64());
        var size = unchecked((long)root.GetProperty("treeSize").GetUInt64());
        var leafHash = root.GetProperty("leafHash").GetBytesFromBase64();
        var expectedRoot = root.GetProperty("root").GetBytesFromBase64();
        var proof = ReadProof(root);
        var wantErr = root.GetProperty("wantErr").GetBoolean();

        if (wantErr)
        {
            var error = Assert.Throws<ProofException>(() => MerkleProofs.VerifyInclusion(index, size, leafHash, proof, expectedRoot));
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }
        else
        {
            MerkleProofs.VerifyInclusion(index, size, leafHash, proof, expectedRoot);
            Assert.Equal(expectedRoot, MerkleProofs.RootFromInclusionProof(index, size, leafHash, proof));
        }
    }

    [VectorTheory]
    [MemberData(nameof(ConsistencyCases))]
    public void Consistency_case_matches_wantErr(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Vectors.PathOf(file)));
        var root = json.RootElement;
        var size1 = unchecked((long)root.GetProperty("size1").GetUInt64());
        var size2 = unchecked((long)root.GetProperty("size2").GetUInt64());
        var root1 = root.GetProperty("root1").GetBytesFromBase64();
        var root2 = root.GetProperty("root2").GetBytesFromBase64();
        var proof = ReadProof(root);
        var wantErr = root.GetProperty("wantErr").GetBoolean();

        if (wantErr)
        {
            var error = Assert.Throws<ProofException>(() => MerkleProofs.VerifyConsistency(size1, size2, proof, root1, root2));
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }
        else
        {
            MerkleProofs.VerifyConsistency(size1, size2, proof, root1, root2);
        }
    }

    [Fact(Skip = "merkle/testdata/subtreeinclusion and subtreeconsistency test the draft subtree proof algorithms " +
                 "(transparency-dev VerifySubtreeInclusion/VerifySubtreeConsistency), which SIOS does not use: it " +
                 "verifies only RFC 9162 inclusion and consistency proofs")]
    public void Subtree_vectors_are_not_used()
    {
        Assert.Fail("skipped");
    }

    [VectorFact]
    public void Every_vector_folder_is_covered()
    {
        // Guards against a vector refresh adding cases this class would silently not read.
        var folders = Directory.GetDirectories(Vectors.PathOf(Base)).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "consistency", "inclusion", "subtreeconsistency", "subtreeinclusion" }, folders);
        var inclusion = CaseFiles("inclusion");
        var consistency = CaseFiles("consistency");
        Assert.True(inclusion.Count >= 90, $"expected the ~98 inclusion cases, found {inclusion.Count}");
        Assert.True(consistency.Count >= 90, $"expected the ~98 consistency cases, found {consistency.Count}");
        Assert.Contains(inclusion, f => f.Contains("/single-entry/", StringComparison.Ordinal));
        Assert.Contains(inclusion, f => f.Contains("/additional/", StringComparison.Ordinal));
        Assert.Contains(consistency, f => f.Contains("/additional/", StringComparison.Ordinal));
    }

    private static byte[][] ReadProof(JsonElement root)
    {
        var proof = root.GetProperty("proof");
        return proof.ValueKind == JsonValueKind.Null ? [] : proof.EnumerateArray().Select(p => p.GetBytesFromBase64()).ToArray();
    }

    private static TheoryData<string> CasesUnder(string folder)
    {
        // When the vectors are absent the theory is skipped; one row keeps discovery from failing on no data.
        var files = Vectors.Root is null ? [$"{Base}/{folder} (vectors absent)"] : CaseFiles(folder);
        var data = new TheoryData<string>();
        foreach (var file in files)
        {
            data.Add(file);
        }

        return data;
    }

    private static List<string> CaseFiles(string folder) =>
        Directory.EnumerateFiles(Vectors.PathOf($"{Base}/{folder}"), "*.json", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(Vectors.Root!, file).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
}
