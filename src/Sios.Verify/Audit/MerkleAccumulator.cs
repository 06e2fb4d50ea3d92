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
    public void Push(ReadOnlySpan<byte> leafHash)
    {
        var hash = leafHash.ToArray();
        var height = 0;
        while (_heights.Count > 0 && _heights[^1] == height)
        {
            hash = Rfc6962.NodeHash(_roots[^1], hash);
            _roots.RemoveAt(_roots.Count - 1);
            _heights.RemoveAt(_heights.Count - 1);
            height++;
        }

        _roots.Add(hash);
        _heights.Add(height);
        Size++;
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
