namespace Sios.Verify.Merkle;

/// <summary>
/// Verification of RFC 9162 §2.1.3.2 inclusion proofs and §2.1.4.2 consistency proofs over RFC 6962 SHA-256
/// trees. Every failure raises a <see cref="ProofException"/> saying what was wrong.
/// </summary>
public static class MerkleProofs
{
    /// <summary>The longest valid inclusion proof for any tree size below 2^63.</summary>
    public const int MaxProofLength = 63;

    /// <summary>The longest valid consistency proof for sizes below 2^63 (one more than an inclusion proof).</summary>
    public const int MaxConsistencyProofLength = MaxProofLength + 1;

    /// <summary>Checks that <paramref name="proof"/> proves leaf <paramref name="index"/> of a tree of <paramref name="size"/> with <paramref name="root"/>.</summary>
    public static void VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        Span<byte> computed = stackalloc byte[Rfc6962.HashSize];
        ComputeInclusionRoot(index, size, leafHash, proof, computed);
        RequireHash(root, "root");
        if (!computed.SequenceEqual(root))
        {
            throw new ProofException(
                $"inclusion proof for leaf {index} in tree size {size} leads to root {Convert.ToHexStringLower(computed)}, " +
                $"not the expected {Convert.ToHexStringLower(root)}");
        }
    }

    /// <summary>Returns the root that <paramref name="proof"/> implies for leaf <paramref name="index"/> of a tree of <paramref name="size"/>.</summary>
    public static byte[] RootFromInclusionProof(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof)
    {
        var computed = new byte[Rfc6962.HashSize];
        ComputeInclusionRoot(index, size, leafHash, proof, computed);
        return computed;
    }

    /// <summary>Checks that <paramref name="proof"/> shows the tree of <paramref name="size1"/> with <paramref name="root1"/> is a prefix of the tree of <paramref name="size2"/> with <paramref name="root2"/>.</summary>
    public static void VerifyConsistency(long size1, long size2, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (size1 < 0 || size2 < 0)
        {
            throw new ProofException($"tree sizes must not be negative (size1 {size1}, size2 {size2})");
        }

        if (size1 > size2)
        {
            throw new ProofException($"size1 {size1} is greater than size2 {size2}: a log never shrinks");
        }

        // As transparency-dev/merkle does: every tree extends the empty tree, so such a "proof" proves nothing
        // and accepting one would only hide a caller's mistake.
        if (size1 == 0)
        {
            throw new ProofException("a consistency proof from the empty tree (size1 0) is meaningless");
        }

        if (size1 == size2)
        {
            if (proof.Count != 0)
            {
                throw new ProofException($"size1 equals size2 ({size1}), so the proof must be empty, but it has {proof.Count} hashes");
            }

            if (!root1.SequenceEqual(root2))
            {
                throw new ProofException($"size1 equals size2 ({size1}) but root1 and root2 differ");
            }

            return;
        }

        RequireHash(root2, "root2");
        var (fr, sr) = RootsFromConsistencyProof(size1, size2, proof, root1);
        if (!fr.SequenceEqual(root1))
        {
            throw new ProofException(
                $"the consistency proof from size {size1} to {size2} does not reproduce root1: it leads to " +
                $"{Convert.ToHexStringLower(fr)}, not {Convert.ToHexStringLower(root1)}");
        }

        if (!sr.SequenceEqual(root2))
        {
            throw new ProofException(
                $"the consistency proof from size {size1} to {size2} does not reproduce root2: it leads to " +
                $"{Convert.ToHexStringLower(sr)}, not {Convert.ToHexStringLower(root2)}");
        }
    }

    /// <summary>
    /// The old and new roots an RFC 9162 consistency proof from <paramref name="size1"/> to <paramref name="size2"/>
    /// (0 &lt; size1 &lt; size2) leads to, uncompared. When the new one is a signed root, the proof's hashes are that
    /// tree's own nodes, so an old one that differs from a signed old root proves a fork, not merely a bad proof. For a
    /// power-of-two size1 the proof omits MTH(D[0:size1]) and starts from <paramref name="root1"/> (otherwise ignored).
    /// </summary>
    public static (byte[] Root1, byte[] Root2) RootsFromConsistencyProof(long size1, long size2, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root1)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (size1 <= 0 || size1 >= size2)
        {
            throw new ProofException($"a consistency proof's roots need 0 < size1 < size2 (size1 {size1}, size2 {size2})");
        }

        if (proof.Count == 0)
        {
            throw new ProofException($"the consistency proof from size {size1} to {size2} is empty");
        }

        if (proof.Count > MaxConsistencyProofLength)
        {
            throw new ProofException($"the consistency proof has {proof.Count} hashes; no valid one has more than {MaxConsistencyProofLength}");
        }

        var expected = ConsistencyProofLength(size1, size2);
        if (proof.Count != expected)
        {
            throw new ProofException($"the consistency proof from size {size1} to {size2} must have {expected} hashes, but it has {proof.Count}");
        }

        RequireProofHashes(proof);
        RequireHash(root1, "root1");

        // RFC 9162 §2.1.4.2. The exact length check above stands in for the RFC's "sn is 0" checks: with the
        // right number of hashes the iteration ends exactly when sn reaches 0.
        var firstIsPowerOfTwo = (size1 & (size1 - 1)) == 0;
        var fn = size1 - 1;
        var sn = size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> fr = stackalloc byte[Rfc6962.HashSize];
        Span<byte> sr = stackalloc byte[Rfc6962.HashSize];
        var seed = firstIsPowerOfTwo ? root1 : proof[0];
        seed.CopyTo(fr);
        seed.CopyTo(sr);
        for (var i = firstIsPowerOfTwo ? 0 : 1; i < proof.Count; i++)
        {
            var c = proof[i];
            if ((fn & 1) == 1 || fn == sn)
            {
                Rfc6962.NodeHash(c, fr, fr);
                Rfc6962.NodeHash(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                Rfc6962.NodeHash(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return (fr.ToArray(), sr.ToArray());
    }

    /// <summary>Number of hashes in the RFC 9162 inclusion proof of leaf <paramref name="index"/> in a tree of <paramref name="size"/>.</summary>
    public static int InclusionProofLength(long index, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);

        // Counts the iterations of the RFC 9162 §2.1.3.2 loop until sn reaches 0, without hashing.
        var fn = index;
        var sn = size - 1;
        var count = 0;
        while (sn != 0)
        {
            count++;
            Step(ref fn, ref sn);
        }

        return count;
    }

    /// <summary>Number of hashes in the RFC 9162 consistency proof from <paramref name="size1"/> to <paramref name="size2"/> (0 &lt; size1 &lt;= size2).</summary>
    public static int ConsistencyProofLength(long size1, long size2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size1, size2);
        if (size1 == size2)
        {
            return 0;
        }

        // Counts what the RFC 9162 §2.1.4.2 loop consumes: the seed (unless root1 is used), then one hash per
        // iteration until sn reaches 0.
        var count = (size1 & (size1 - 1)) == 0 ? 0 : 1;
        var fn = size1 - 1;
        var sn = size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        while (sn != 0)
        {
            count++;
            Step(ref fn, ref sn);
        }

        return count;
    }

    private static void Step(ref long fn, ref long sn)
    {
        // The RFC's "LSB(fn) set or fn == sn" branch only shifts extra when LSB(fn) is clear.
        if ((fn & 1) == 0 && fn == sn)
        {
            while ((fn & 1) == 0 && fn != 0)
            {
                fn >>= 1;
                sn >>= 1;
            }
        }

        fn >>= 1;
        sn >>= 1;
    }

    private static void ComputeInclusionRoot(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, Span<byte> result)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (index < 0)
        {
            throw new ProofException($"leaf index {index} is negative");
        }

        if (index >= size)
        {
            throw new ProofException($"leaf index {index} is not below tree size {size}");
        }

        RequireHash(leafHash, "leaf hash");
        if (proof.Count > MaxProofLength)
        {
            throw new ProofException($"the inclusion proof has {proof.Count} hashes; no valid one has more than {MaxProofLength}");
        }

        var expected = InclusionProofLength(index, size);
        if (proof.Count != expected)
        {
            throw new ProofException($"the inclusion proof for leaf {index} in tree size {size} must have {expected} hashes, but it has {proof.Count}");
        }

        RequireProofHashes(proof);

        // RFC 9162 §2.1.3.2; the exact length check above stands in for the RFC's "sn is 0" checks.
        var fn = index;
        var sn = size - 1;
        leafHash.CopyTo(result);
        foreach (var p in proof)
        {
            if ((fn & 1) == 1 || fn == sn)
            {
                Rfc6962.NodeHash(p, result, result);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                Rfc6962.NodeHash(result, p, result);
            }

            fn >>= 1;
            sn >>= 1;
        }
    }

    private static void RequireProofHashes(IReadOnlyList<byte[]> proof)
    {
        for (var i = 0; i < proof.Count; i++)
        {
            if (proof[i] is null)
            {
                throw new ProofException($"proof hash {i} is missing");
            }

            RequireHash(proof[i], $"proof hash {i}");
        }
    }

    private static void RequireHash(ReadOnlySpan<byte> hash, string what)
    {
        if (hash.Length != Rfc6962.HashSize)
        {
            throw new ProofException($"{what} is {hash.Length} bytes long, not {Rfc6962.HashSize}");
        }
    }
}
