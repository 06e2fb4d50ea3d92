using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Sios.Tests.Shared;

/// <summary>
/// A deliberately naive RFC 6962 / RFC 9162 / tlog-tiles reference, written straight from the definitions
/// with no dependency on the code under test: the oracle for property tests.
/// </summary>
internal static class NaiveMerkle
{
    public static byte[] LeafHash(byte[] data) => SHA256.HashData([0x00, .. data]);

    public static byte[] NodeHash(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    /// <summary>Random 32-byte leaf hashes, reproducible from <paramref name="seed"/>.</summary>
    public static byte[][] RandomLeaves(int seed, int count)
    {
        var random = new Random(seed);
        var leaves = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            leaves[i] = new byte[32];
            random.NextBytes(leaves[i]);
        }

        return leaves;
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (n &gt;= 2).</summary>
    public static long Split(long n)
    {
        long k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    /// <summary>The ranges whose MTHs form PATH(m, D[start:end]) (RFC 9162 §2.1.3.1), in proof order.</summary>
    public static List<(long Start, long End)> PathRanges(long m, long start, long end)
    {
        var n = end - start;
        if (n <= 1)
        {
            return [];
        }

        var k = Split(n);
        if (m < k)
        {
            var result = PathRanges(m, start, start + k);
            result.Add((start + k, end));
            return result;
        }
        else
        {
            var result = PathRanges(m - k, start + k, end);
            result.Add((start, start + k));
            return result;
        }
    }

    /// <summary>The ranges whose MTHs form PROOF(m, D[0:n]) (RFC 9162 §2.1.4.1), in proof order.</summary>
    public static List<(long Start, long End)> ConsistencyRanges(long m, long n) => SubProofRanges(m, 0, n, true);

    private static List<(long Start, long End)> SubProofRanges(long m, long start, long end, bool whole)
    {
        var n = end - start;
        if (m == n)
        {
            return whole ? [] : [(start, end)];
        }

        var k = Split(n);
        if (m <= k)
        {
            var result = SubProofRanges(m, start, start + k, whole);
            result.Add((start + k, end));
            return result;
        }
        else
        {
            var result = SubProofRanges(m - k, start + k, end, false);
            result.Add((start, start + k));
            return result;
        }
    }

    /// <summary>
    /// The RFC 6962 reference roots table of shared/vectors/README.md, parsed in place: the leaves it names and
    /// the root for each tree size.
    /// </summary>
    public static (List<byte[]> Leaves, Dictionary<int, byte[]> Roots) ReadReferenceTable(string readmePath)
    {
        var text = File.ReadAllText(readmePath);
        var intro = Regex.Match(text, @"RFC 6962 reference roots.*?for the leaves(?<leaves>.*?)by tree size", RegexOptions.Singleline);
        if (!intro.Success)
        {
            throw new InvalidDataException($"{readmePath} has no 'RFC 6962 reference roots ... for the leaves ... by tree size' paragraph");
        }

        var leaves = Regex.Matches(intro.Groups["leaves"].Value, "`([^`]*)`")
            .Select(m => m.Groups[1].Value == "\"\"" ? [] : Convert.FromHexString(m.Groups[1].Value))
            .ToList();
        var roots = new Dictionary<int, byte[]>();
        foreach (Match row in Regex.Matches(text[intro.Index..], @"^\|\s*(\d+)\s*\|\s*([0-9a-f]{64})\s*\|\s*$", RegexOptions.Multiline))
        {
            roots[int.Parse(row.Groups[1].Value, CultureInfo.InvariantCulture)] = Convert.FromHexString(row.Groups[2].Value);
        }

        return (leaves, roots);
    }
}

/// <summary>A tree over given leaf hashes, computed naively from the definitions (MTHs memoised for speed).</summary>
internal sealed class NaiveTree
{
    private readonly IReadOnlyList<byte[]> _leaves;
    private readonly ConcurrentDictionary<(long, long), byte[]> _memo = new();

    public NaiveTree(IReadOnlyList<byte[]> leafHashes) => _leaves = leafHashes;

    public IReadOnlyList<byte[]> Leaves => _leaves;

    /// <summary>MTH(D[start:end]) (RFC 6962 §2.1).</summary>
    public byte[] Mth(long start, long end)
    {
        var n = end - start;
        if (n == 0)
        {
            return SHA256.HashData(ReadOnlySpan<byte>.Empty);
        }

        if (n == 1)
        {
            return _leaves[(int)start];
        }

        if (_memo.TryGetValue((start, end), out var known))
        {
            return known;
        }

        var k = NaiveMerkle.Split(n);
        var hash = NaiveMerkle.NodeHash(Mth(start, start + k), Mth(start + k, end));
        _memo.TryAdd((start, end), hash);
        return hash;
    }

    /// <summary>PATH(m, D[0:size]).</summary>
    public List<byte[]> Path(long m, long size) => NaiveMerkle.PathRanges(m, 0, size).Select(r => Mth(r.Start, r.End)).ToList();

    /// <summary>PROOF(m, D[0:size]).</summary>
    public List<byte[]> Proof(long m, long size) => NaiveMerkle.ConsistencyRanges(m, size).Select(r => Mth(r.Start, r.End)).ToList();

    /// <summary>
    /// Every tile of the tree of the first <paramref name="size"/> leaves, straight from tlog-tiles: tile n of
    /// level l holds MTH(D[(n*256+i)*256^l : (n*256+i+1)*256^l]) for each i whose range lies within the tree.
    /// </summary>
    public Dictionary<(int Level, long Index), byte[]> Tiles(long size)
    {
        var tiles = new Dictionary<(int Level, long Index), byte[]>();
        long span = 1;
        for (var level = 0; span <= size; level++, span *= 256)
        {
            var hashes = size / span;
            for (long tile = 0; tile * 256 < hashes; tile++)
            {
                var content = new List<byte>();
                for (var i = tile * 256; i < Math.Min(hashes, (tile + 1) * 256); i++)
                {
                    content.AddRange(Mth(i * span, (i + 1) * span));
                }

                tiles[(level, tile)] = [.. content];
            }
        }

        return tiles;
    }
}
