using Sios.Verify.Merkle;

namespace Sios.Verify.Tiles;

/// <summary>
/// One hash tile as read, plus the nodes of its internal 8-level tree, each hashed the first time it is needed
/// so that repeated proofs over the same tiles cost lookups, not re-hashing.
/// </summary>
internal sealed class CachedTile
{
    private const int HashSize = Rfc6962.HashSize;

    // Internal heights 1..7 of a 256-wide tile hold 128 + 64 + ... + 2 = 254 nodes.
    private const int InternalNodes = 254;

    private readonly byte[] _hashes;
    private readonly Lock _lock = new();
    private byte[]? _internal;
    private bool[]? _known;

    public CachedTile(byte[] hashes) => _hashes = hashes;

    /// <summary>Writes the node at <paramref name="height"/> (0 = a stored hash) and <paramref name="position"/> within the tile.</summary>
    public void Node(int height, int position, Span<byte> destination)
    {
        if (height == 0)
        {
            _hashes.AsSpan(position * HashSize, HashSize).CopyTo(destination);
            return;
        }

        lock (_lock)
        {
            _internal ??= new byte[InternalNodes * HashSize];
            _known ??= new bool[InternalNodes];
            InternalNode(height, position).CopyTo(destination);
        }
    }

    private ReadOnlySpan<byte> InternalNode(int height, int position)
    {
        if (height == 0)
        {
            return _hashes.AsSpan(position * HashSize, HashSize);
        }

        // Heights 1..7 are laid out one after another: height h starts after the 256 - (512 >> h) nodes below it.
        var slot = TilePath.FullWidth - ((2 * TilePath.FullWidth) >> height) + position;
        var node = _internal.AsSpan(slot * HashSize, HashSize);
        if (!_known![slot])
        {
            Rfc6962.NodeHash(InternalNode(height - 1, 2 * position), InternalNode(height - 1, (2 * position) + 1), node);
            _known[slot] = true;
        }

        return node;
    }
}
