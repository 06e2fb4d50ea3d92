using Sios.Verify.Merkle;

namespace Sios.Verify.Audit;

/// <summary>
/// Streams leaf hashes and yields the RFC 6962 root of everything pushed so far, in O(log n) memory.
/// The auditor's own tree code, deliberately independent of the log's sequencer.
/// </summary>
public sealed class MerkleAccumulator
{
    // Perfect-subtree roots of the right edge, largest first; _heights[i] is the height of _roots[i].
    private readonly List<byte[]> _roots = [];
    private readonly List<int> _heights = [];

    /// <summary>Number of leaves pushed.</summary>
    public long Size { get; private set; }

    /// <summary>Adds the next leaf hash.</summary>
    public void Push(ReadOnlySpan<byte> leafHash) => Push(leafHash, 0);

    /// <summary>
    /// Adds the root of the next perfect subtree of 2^<paramref name="height"/> leaves; the leaves pushed so far
    /// must be a multiple of that, which holds at every tile boundary.
    /// </summary>
    public void Push(ReadOnlySpan<byte> subtreeRoot, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        if ((Size & ((1L << height) - 1)) != 0)
        {
            throw new InvalidOperationException($"a subtree of height {height} cannot start at leaf {Size}");
        }

        var hash = subtreeRoot.ToArray();
        var h = height;
        while (_heights.Count > 0 && _heights[^1] == h)
        {
            hash = Rfc6962.NodeHash(_roots[^1], hash);
            _roots.RemoveAt(_roots.Count - 1);
            _heights.RemoveAt(_heights.Count - 1);
            h++;
        }

        _roots.Add(hash);
        _heights.Add(h);
        Size += 1L << height;
    }

    /// <summary>The root of the leaves pushed so far (SHA-256 of nothing for none).</summary>
    public byte[] Root()
    {
        if (_roots.Count == 0)
        {
            return Rfc6962.EmptyRoot.ToArray();
        }

        var hash = _roots[^1];
        for (var i = _roots.Count - 2; i >= 0; i--)
        {
            hash = Rfc6962.NodeHash(_roots[i], hash);
        }

        return hash;
    }
}
