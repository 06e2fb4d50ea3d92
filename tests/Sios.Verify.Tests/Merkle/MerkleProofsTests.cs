using CsCheck;
using Sios.Tests.Shared;
using Sios.Tests.Support;
using Sios.Verify.Merkle;

namespace Sios.Verify.Tests.Merkle;

public class MerkleProofsTests
{
    private const int SmallTree = 40;

    [Fact]
    public void Every_proof_of_small_trees_verifies_and_has_the_rfc_length()
    {
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(1, SmallTree));
        for (long n = 1; n <= SmallTree; n++)
        {
            var root = tree.Mth(0, n);
            for (long i = 0; i < n; i++)
            {
                var path = tree.Path(i, n);
                Assert.Equal(path.Count, MerkleProofs.InclusionProofLength(i, n));
                MerkleProofs.VerifyInclusion(i, n, tree.Leaves[(int)i], path, root);
                Assert.Equal(root, MerkleProofs.RootFromInclusionProof(i, n, tree.Leaves[(int)i], path));
            }

            for (long m = 1; m <= n; m++)
            {
                var proof = tree.Proof(m, n);
                if (m < n)
                {
                    Assert.Equal(proof.Count, MerkleProofs.ConsistencyProofLength(m, n));
                }

                MerkleProofs.VerifyConsistency(m, n, proof, tree.Mth(0, m), root);
            }
        }
    }

    [Fact]
    public void Changed_index_or_size_verifies_exactly_when_the_computation_is_unchanged()
    {
        // Exhaustive over small trees: every (index, size) proof replayed against every other (index', size').
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(2, SmallTree));
        var accepted = 0;
        for (long n = 1; n <= SmallTree; n++)
        {
            var root = tree.Mth(0, n);
            for (long i = 0; i < n; i++)
            {
                var path = tree.Path(i, n);
                var original = ProofShapes.Inclusion(i, n, path.Count);
                for (long n2 = 0; n2 <= SmallTree + 2; n2++)
                {
                    for (var i2 = i - 1; i2 <= i + 1; i2++)
                    {
                        if ((i2, n2) == (i, n))
                        {
                            continue;
                        }

                        var expectAccept = ProofShapes.Inclusion(i2, n2, path.Count) == original;
                        accepted += expectAccept ? 1 : 0;
                        AssertOutcome(expectAccept, () => MerkleProofs.VerifyInclusion(i2, n2, tree.Leaves[(int)i], path, root));
                    }
                }
            }
        }

        // Size changes that keep the computation exist (e.g. leaf 0 of 3 vs of 4); the oracle must find some.
        Assert.True(accepted > 0);
    }

    [Fact]
    public void Changed_consistency_sizes_verify_exactly_when_the_computation_is_unchanged()
    {
        const int max = 24;
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(3, max));
        var accepted = 0;
        for (long n = 2; n <= max; n++)
        {
            for (long m = 1; m < n; m++)
            {
                var proof = tree.Proof(m, n);
                var root1 = tree.Mth(0, m);
                var root2 = tree.Mth(0, n);
                var original = ProofShapes.Consistency(m, n, proof.Count, "R1")!.Value;
                for (long n2 = 0; n2 <= max + 2; n2++)
                {
                    for (long m2 = 0; m2 <= n2 + 1; m2++)
                    {
                        if ((m2, n2) == (m, n))
                        {
                            continue;
                        }

                        var expectAccept = ProofShapes.Consistency(m2, n2, proof.Count, original.Root1) == original;
                        accepted += expectAccept ? 1 : 0;
                        AssertOutcome(expectAccept, () => MerkleProofs.VerifyConsistency(m2, n2, proof, root1, root2));
                    }
                }
            }
        }

        Assert.True(accepted > 0);
    }

    [Fact]
    public void Random_inclusion_proofs_verify_and_every_mutation_is_rejected()
    {
        Gen.Select(Gen.Int[1, 3000], Gen.Int, Gen.Int).Sample((size, seed, pick) =>
        {
            var tree = new NaiveTree(NaiveMerkle.RandomLeaves(seed, size));
            var random = new Random(pick);
            long index = random.Next(size);
            var leaf = tree.Leaves[(int)index];
            var root = tree.Mth(0, size);
            var proof = tree.Path(index, size);
            MerkleProofs.VerifyInclusion(index, size, leaf, proof, root);

            foreach (var mutated in ProofMutations(proof, random))
            {
                Assert.Throws<ProofException>(() => MerkleProofs.VerifyInclusion(index, size, leaf, mutated, root));
            }

            Assert.Throws<ProofException>(() => MerkleProofs.VerifyInclusion(index, size, FlipBit(leaf, random), proof, root));
            Assert.Throws<ProofException>(() => MerkleProofs.VerifyInclusion(index, size, leaf, proof, FlipBit(root, random)));
            Assert.Throws<ProofException>(() => MerkleProofs.VerifyInclusion(index, size, leaf, proof, root.AsSpan(1)));
            Assert.Throws<ProofException>(() => MerkleProofs.VerifyInclusion(index, size, leaf.AsSpan(1), proof, root));

            var original = ProofShapes.Inclusion(index, size, proof.Count);
            long[] indices = [index - 1, index + 1, index ^ 1, index ^ 2, random.Next(size), -1, size, long.MaxValue];
            foreach (var i2 in indices.Where(i => i != index))
            {
                AssertOutcome(ProofShapes.Inclusion(i2, size, proof.Count) == original, () => MerkleProofs.VerifyInclusion(i2, size, leaf, proof, root));
            }

            long[] sizes = [size - 1, size + 1, size * 2L, size / 2, index, index + 1 + random.Next(2 * size), 0, -1];
            foreach (var n2 in sizes.Where(n => n != size))
            {
                AssertOutcome(ProofShapes.Inclusion(index, n2, proof.Count) == original, () => MerkleProofs.VerifyInclusion(index, n2, leaf, proof, root));
            }
        }, iter: 150);
    }

    [Fact]
    public void Random_consistency_proofs_verify_and_every_mutation_is_rejected()
    {
        Gen.Select(Gen.Int[2, 3000], Gen.Int, Gen.Int).Sample((size, seed, pick) =>
        {
            var tree = new NaiveTree(NaiveMerkle.RandomLeaves(seed, size));
            var random = new Random(pick);
            long m = 1 + random.Next(size - 1);
            var root1 = tree.Mth(0, m);
            var root2 = tree.Mth(0, size);
            var proof = tree.Proof(m, size);
            MerkleProofs.VerifyConsistency(m, size, proof, root1, root2);

            foreach (var mutated in ProofMutations(proof, random))
            {
                Assert.Throws<ProofException>(() => MerkleProofs.VerifyConsistency(m, size, mutated, root1, root2));
            }

            Assert.Throws<ProofException>(() => MerkleProofs.VerifyConsistency(m, size, proof, FlipBit(root1, random), root2));
            Assert.Throws<ProofException>(() => MerkleProofs.VerifyConsistency(m, size, proof, root1, FlipBit(root2, random)));
            Assert.Throws<ProofException>(() => MerkleProofs.VerifyConsistency(m, size, proof, root2, root1));
            Assert.Throws<ProofException>(() => MerkleProofs.VerifyConsistency(m, size, proof, root1.AsSpan(1), root2));
            Assert.Throws<ProofException>(() => MerkleProofs.VerifyConsistency(m, size, proof, root1, root2.AsSpan(1)));

            var original = ProofShapes.Consistency(m, size, proof.Count, "R1")!.Value;
            long[] firsts = [m - 1, m + 1, m * 2, m / 2, 1 + random.Next(size), 0, size, -1];
            long[] seconds = [size - 1, size + 1, size * 2L, size / 2, m + random.Next(2 * size), m, -1];
            var pairs = firsts.Select(m2 => (m2, (long)size)).Concat(seconds.Select(n2 => (m, n2))).Append((size, m));
            foreach (var (m2, n2) in pairs.Where(p => p != (m, size)))
            {
                AssertOutcome(
                    ProofShapes.Consistency(m2, n2, proof.Count, original.Root1) == original,
                    () => MerkleProofs.VerifyConsistency(m2, n2, proof, root1, root2));
            }
        }, iter: 150);
    }

    [Fact]
    public void Malformed_inputs_are_rejected_with_a_reason()
    {
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(4, 8));
        var root = tree.Mth(0, 8);
        var proof = tree.Path(3, 8);

        AssertReason("negative", () => MerkleProofs.VerifyInclusion(-1, 8, tree.Leaves[3], proof, root));
        AssertReason("not below tree size", () => MerkleProofs.VerifyInclusion(8, 8, tree.Leaves[3], proof, root));
        AssertReason("leaf hash is 31 bytes", () => MerkleProofs.VerifyInclusion(3, 8, tree.Leaves[3].AsSpan(1), proof, root));
        AssertReason("must have 3 hashes, but it has 2", () => MerkleProofs.VerifyInclusion(3, 8, tree.Leaves[3], proof.Take(2).ToList(), root));
        AssertReason("proof hash 1 is 33 bytes", () => MerkleProofs.VerifyInclusion(3, 8, tree.Leaves[3], [proof[0], [.. proof[1], 0], proof[2]], root));
        AssertReason("proof hash 2 is missing", () => MerkleProofs.VerifyInclusion(3, 8, tree.Leaves[3], [proof[0], proof[1], null!], root));
        AssertReason("no valid one has more than 63", () => MerkleProofs.VerifyInclusion(3, 8, tree.Leaves[3], Enumerable.Repeat(root, 64).ToList(), root));
        AssertReason("root is 0 bytes", () => MerkleProofs.VerifyInclusion(3, 8, tree.Leaves[3], proof, []));
        AssertReason("not the expected", () => MerkleProofs.VerifyInclusion(3, 8, tree.Leaves[2], proof, root));

        var consistency = tree.Proof(3, 8);
        var root3 = tree.Mth(0, 3);
        AssertReason("greater than size2", () => MerkleProofs.VerifyConsistency(8, 3, consistency, root3, root));
        AssertReason("must not be negative", () => MerkleProofs.VerifyConsistency(-1, 3, consistency, root3, root));
        AssertReason("empty tree", () => MerkleProofs.VerifyConsistency(0, 8, [], root3, root));
        AssertReason("must be empty", () => MerkleProofs.VerifyConsistency(8, 8, consistency, root, root));
        AssertReason("root1 and root2 differ", () => MerkleProofs.VerifyConsistency(8, 8, [], root3, root));
        AssertReason("is empty", () => MerkleProofs.VerifyConsistency(3, 8, [], root3, root));
        AssertReason("no valid one has more than 64", () => MerkleProofs.VerifyConsistency(3, 8, Enumerable.Repeat(root, 65).ToList(), root3, root));
        AssertReason("must have 4 hashes, but it has 5", () => MerkleProofs.VerifyConsistency(3, 8, [.. consistency, root], root3, root));
        AssertReason("root1 is 31 bytes", () => MerkleProofs.VerifyConsistency(3, 8, consistency, root3.AsSpan(1), root));
        AssertReason("does not reproduce root1", () => MerkleProofs.VerifyConsistency(3, 8, consistency, root, root));
        AssertReason("does not reproduce root2", () => MerkleProofs.VerifyConsistency(3, 8, consistency, root3, root3));
        MerkleProofs.VerifyConsistency(8, 8, [], root, root);
    }

    [Fact]
    public void Proof_length_limits_hold_for_the_largest_sizes()
    {
        Assert.Equal(MerkleProofs.MaxProofLength, MerkleProofs.InclusionProofLength(0, long.MaxValue));
        Assert.Equal(MerkleProofs.MaxConsistencyProofLength, MerkleProofs.ConsistencyProofLength(3, long.MaxValue));
        Gen.Select(Gen.Long[1, long.MaxValue], Gen.Long[0, long.MaxValue]).Sample((size, pick) =>
        {
            var index = pick % size;
            Assert.InRange(MerkleProofs.InclusionProofLength(index, size), 0, MerkleProofs.MaxProofLength);
            if (index > 0)
            {
                Assert.InRange(MerkleProofs.ConsistencyProofLength(index, size), 1, MerkleProofs.MaxConsistencyProofLength);
            }
        }, iter: 10_000);
    }

    private static IEnumerable<List<byte[]>> ProofMutations(List<byte[]> proof, Random random)
    {
        for (var i = 0; i < proof.Count; i++)
        {
            var flipped = proof.ToList();
            flipped[i] = FlipBit(proof[i], random);
            yield return flipped;

            var dropped = proof.ToList();
            dropped.RemoveAt(i);
            yield return dropped;
        }

        for (var i = 0; i <= proof.Count; i++)
        {
            var added = proof.ToList();
            var extra = new byte[32];
            random.NextBytes(extra);
            added.Insert(i, extra);
            yield return added;
        }
    }

    private static byte[] FlipBit(ReadOnlySpan<byte> hash, Random random)
    {
        var copy = hash.ToArray();
        copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    private static void AssertOutcome(bool expectAccept, Action verify)
    {
        if (expectAccept)
        {
            verify();
        }
        else
        {
            Assert.Throws<ProofException>(verify);
        }
    }

    private static void AssertReason(string expected, Action verify)
    {
        var error = Assert.Throws<ProofException>(verify);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
