using Sios.Tests.Shared;

namespace Sios.Tests.Support;

/// <summary>
/// An exact oracle for whether a proof still verifies after its index or sizes are changed. A verifier's
/// result is a fixed formula over its inputs; from the RFC 9162 definitions this builds that formula
/// symbolically (L = leaf hash, P{i} = proof hash i, R1 = root1) as the tree's MTH with the proven ranges
/// replaced by their symbols. Barring a SHA-256 collision, the changed claim verifies exactly when its
/// formulas equal the original's: a tree size is only bound by the signed checkpoint, so some size changes
/// leave the computation identical and must still be accepted.
/// </summary>
internal static class ProofShapes
{
    /// <summary>The formula an inclusion verifier compares with the root, or null when it must reject outright.</summary>
    public static string? Inclusion(long index, long size, int proofLength)
    {
        if (index < 0 || index >= size)
        {
            return null;
        }

        var ranges = NaiveMerkle.PathRanges(index, 0, size);
        if (ranges.Count != proofLength)
        {
            return null;
        }

        var symbols = new Dictionary<(long, long), string> { [(index, index + 1)] = "L" };
        for (var i = 0; i < ranges.Count; i++)
        {
            symbols[ranges[i]] = $"P{i}";
        }

        return Formula(0, size, symbols);
    }

    /// <summary>
    /// The formulas a consistency verifier compares with root1 and root2 for 0 &lt; m &lt; n, or null when it must
    /// reject outright. <paramref name="root1"/> is what the given root1 stands for ("R1" for the original claim).
    /// </summary>
    public static (string Root1, string Root2)? Consistency(long m, long n, int proofLength, string root1)
    {
        if (m <= 0 || m >= n)
        {
            return null;
        }

        var ranges = NaiveMerkle.ConsistencyRanges(m, n);
        if (ranges.Count != proofLength)
        {
            return null;
        }

        var symbols = new Dictionary<(long, long), string>();
        for (var i = 0; i < ranges.Count; i++)
        {
            symbols[ranges[i]] = $"P{i}";
        }

        // When m is a power of two the proof omits MTH(D[0:m]) and the verifier starts from root1 itself.
        if ((m & (m - 1)) == 0)
        {
            symbols[(0, m)] = root1;
        }

        return (Formula(0, m, symbols), Formula(0, n, symbols));
    }

    private static string Formula(long start, long end, Dictionary<(long, long), string> symbols)
    {
        if (symbols.TryGetValue((start, end), out var symbol))
        {
            return symbol;
        }

        if (end - start <= 1)
        {
            throw new InvalidOperationException($"range [{start}, {end}) is covered by no proof symbol");
        }

        var k = NaiveMerkle.Split(end - start);
        return $"H({Formula(start, start + k, symbols)},{Formula(start + k, end, symbols)})";
    }
}
