using System.Collections.Concurrent;
using System.Numerics;
using Sios.Verify.Merkle;

namespace Sios.Verify.Tiles;

/// <summary>
/// The RFC 6962 tree of a given size as seen through its tlog-tiles hash tiles: roots, range hashes and
/// RFC 9162 proofs. Reads only tiles that exist at that size (full ones at width 256, the rightmost at their
/// partial width) and caches every tile it has read, with the internal nodes it hashes from them, for the
/// life of the instance. Safe to use from several threads.
/// </summary>
public sealed class TiledTree
{
    private readonly IHashTileSource _source;
    private readonly ConcurrentDictionary<(int Level, long Index), CachedTile> _tiles = new();

    /// <summary>Creates a view of the tree of <paramref name="size"/> leaves whose tiles <paramref name="source"/> serves.</summary>
    public TiledTree(IHashTileSource source, long size)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        _source = source;
        Size = size;
    }

    /// <summary>Number of leaves in the tree.</summary>
    public long Size { get; }

    /// <summary>The Merkle tree hash of the whole tree (SHA-256 of nothing when empty).</summary>
    public ValueTask<byte[]> RootAsync(CancellationToken ct = default) => RangeHashAsync(0, Size, ct);

    /// <summary>MTH(D[<paramref name="start"/>:<paramref name="end"/>]) for 0 &lt;= start &lt;= end &lt;= <see cref="Size"/>.</summary>
    public async ValueTask<byte[]> RangeHashAsync(long start, long end, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(end, Size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, end);
        if (start == end)
        {
            return Rfc6962.EmptyRoot.ToArray();
        }

        var needed = new HashSet<(int, long)>();
        AddTilesFor(start, end, needed);
        await LoadTilesAsync(needed, ct).ConfigureAwait(false);
        var result = new byte[Rfc6962.HashSize];
        ComputeRange(start, end, result);
        return result;
    }

    /// <summary>The RFC 9162 inclusion proof PATH(index, D[Size]), lowest level first.</summary>
    public async ValueTask<IReadOnlyList<byte[]>> InclusionProofAsync(long index, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Size);

        // PATH(m, D[a:e]) recurses into the half holding m and appends the other half's hash after the
        // recursion's result, so walking down collects the proof top first.
        var ranges = new List<(long Start, long End)>();
        long a = 0, e = Size;
        while (e - a > 1)
        {
            var k = LargestPowerOfTwoBelow(e - a);
            if (index < a + k)
            {
                ranges.Add((a + k, e));
                e = a + k;
            }
            else
            {
                ranges.Add((a, a + k));
                a += k;
            }
        }

        ranges.Reverse();
        return await HashRangesAsync(ranges, ct).ConfigureAwait(false);
    }

    /// <summary>The RFC 9162 consistency proof PROOF(oldSize, D[Size]) for 0 &lt; oldSize &lt;= <see cref="Size"/> (empty when equal).</summary>
    public async ValueTask<IReadOnlyList<byte[]>> ConsistencyProofAsync(long oldSize, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, Size);

        // SUBPROOF(m, D[a:e], whole) recurses into one half and appends the other half's hash after the
        // recursion's result; it bottoms out when m covers D[a:e], adding MTH(D[a:e]) unless that is the
        // whole old tree (whose root the verifier already has).
        var ranges = new List<(long Start, long End)>();
        long a = 0, e = Size;
        var whole = true;
        while (oldSize != e)
        {
            var k = LargestPowerOfTwoBelow(e - a);
            if (oldSize <= a + k)
            {
                ranges.Add((a + k, e));
                e = a + k;
            }
            else
            {
                ranges.Add((a, a + k));
                a += k;
                whole = false;
            }
        }

        if (!whole)
        {
            ranges.Add((a, e));
        }

        ranges.Reverse();
        return await HashRangesAsync(ranges, ct).ConfigureAwait(false);
    }

    private async ValueTask<IReadOnlyList<byte[]>> HashRangesAsync(List<(long Start, long End)> ranges, CancellationToken ct)
    {
        var needed = new HashSet<(int, long)>();
        foreach (var (start, end) in ranges)
        {
            AddTilesFor(start, end, needed);
        }

        await LoadTilesAsync(needed, ct).ConfigureAwait(false);
        var hashes = new byte[ranges.Count][];
        for (var i = 0; i < ranges.Count; i++)
        {
            hashes[i] = new byte[Rfc6962.HashSize];
            ComputeRange(ranges[i].Start, ranges[i].End, hashes[i]);
        }

        return hashes;
    }

    private static long LargestPowerOfTwoBelow(long n) => 1L << BitOperations.Log2((ulong)(n - 1));

    private static bool IsPerfect(long start, long end, out int height)
    {
        var n = end - start;
        height = BitOperations.Log2((ulong)n);
        return (n & (n - 1)) == 0 && (start & (n - 1)) == 0;
    }

    // Mirrors ComputeRange's recursion, recording the one tile each perfect subtree is read from.
    private static void AddTilesFor(long start, long end, HashSet<(int, long)> needed)
    {
        if (IsPerfect(start, end, out var height))
        {
            var level = height / TilePath.Height;
            var first = start >> (level * TilePath.Height);
            needed.Add((level, first / TilePath.FullWidth));
            return;
        }

        var k = LargestPowerOfTwoBelow(end - start);
        AddTilesFor(start, start + k, needed);
        AddTilesFor(start + k, end, needed);
    }

    private void ComputeRange(long start, long end, Span<byte> destination)
    {
        if (IsPerfect(start, end, out var height))
        {
            ComputePerfect(start, height, destination);
            return;
        }

        var k = LargestPowerOfTwoBelow(end - start);
        Span<byte> children = stackalloc byte[2 * Rfc6962.HashSize];
        ComputeRange(start, start + k, children[..Rfc6962.HashSize]);
        ComputeRange(start + k, end, children[Rfc6962.HashSize..]);
        Rfc6962.NodeHash(children[..Rfc6962.HashSize], children[Rfc6962.HashSize..], destination);
    }

    // A perfect subtree of height h is a node at height h mod 8 of the internal tree of one level-(h / 8) tile.
    private void ComputePerfect(long start, int height, Span<byte> destination)
    {
        var level = height / TilePath.Height;
        var heightInTile = height % TilePath.Height;
        var first = start >> (level * TilePath.Height);
        var tile = _tiles[(level, first / TilePath.FullWidth)];
        tile.Node(heightInTile, (int)(first % TilePath.FullWidth) >> heightInTile, destination);
    }

    private async ValueTask LoadTilesAsync(HashSet<(int Level, long Index)> needed, CancellationToken ct)
    {
        var missing = needed.Where(key => !_tiles.ContainsKey(key)).ToList();
        if (missing.Count == 1)
        {
            var (level, index) = missing[0];
            await LoadTileAsync(level, index, ct).ConfigureAwait(false);
        }
        else if (missing.Count > 1)
        {
            // Independent reads can overlap: a remote source serves them in parallel.
            await Task.WhenAll(missing.Select(key => LoadTileAsync(key.Level, key.Index, ct).AsTask())).ConfigureAwait(false);
        }
    }

    private async ValueTask LoadTileAsync(int level, long index, CancellationToken ct)
    {
        var width = index < TilePath.FullTileCount(level, Size) ? TilePath.FullWidth : TilePath.PartialWidth(level, Size);
        var data = await _source.ReadTileAsync(level, index, width, ct).ConfigureAwait(false);
        if (data.Length != width * Rfc6962.HashSize)
        {
            throw new VerificationException(
                $"tile {TilePath.Tile(level, index, width)} has {data.Length} bytes; a tree of size {Size} needs " +
                $"{width} hashes ({width * Rfc6962.HashSize} bytes) there");
        }

        // A copy, so that a source reusing its buffers cannot change what this instance has cached.
        _tiles.TryAdd((level, index), new CachedTile(data.ToArray()));
    }
}
