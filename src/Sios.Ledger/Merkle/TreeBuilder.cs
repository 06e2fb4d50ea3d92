using Sios.Ledger.Storage;
using Sios.Verify;
using Sios.Verify.Merkle;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Merkle;

/// <summary>
/// The sequencer's in-memory right edge of the RFC 6962 tree: the perfect subtrees that make up the current
/// root, and the partial tile of each level, so that appending is O(1) amortised per leaf and memory is
/// O(log n). Not thread-safe: the single sequencer owns it.
/// </summary>
public sealed class TreeBuilder
{
    private const int HashSize = Rfc6962.HashSize;

    // Sizes stay below 2^63, so subtree heights stay below 63 and tile levels below 8.
    private const int MaxHeights = 63;
    private const int Levels = 8;

    // The compact range of [0, Size): one perfect subtree per set bit of Size, tallest (leftmost) first.
    private readonly byte[] _stackHashes = new byte[MaxHeights * HashSize];
    private readonly int[] _stackHeights = new int[MaxHeights];
    private int _stackCount;

    // The current partial tile of each level (its first PartialWidth(level, Size) hashes are meaningful).
    private readonly byte[]?[] _tiles = new byte[Levels][];
    private readonly bool[] _dirty = new bool[Levels];

    private TreeBuilder()
    {
    }

    /// <summary>Number of leaves appended so far.</summary>
    public long Size { get; private set; }

    /// <summary>A builder for the empty tree.</summary>
    public static TreeBuilder Empty() => new();

    /// <summary>Restores the builder for a tree of <paramref name="size"/> from its stored partial tiles.</summary>
    public static async ValueTask<TreeBuilder> LoadAsync(long size, IHashTileSource source, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentNullException.ThrowIfNull(source);
        var builder = new TreeBuilder { Size = size };

        // The partial tile of each level holds exactly the subtrees for that level's 8 bits of the size.
        for (var level = Levels - 1; level >= 0; level--)
        {
            var width = TilePath.PartialWidth(level, size);
            if (width == 0)
            {
                continue;
            }

            var index = TilePath.FullTileCount(level, size);
            var data = await source.ReadTileAsync(level, index, width, ct).ConfigureAwait(false);
            if (data.Length != width * HashSize)
            {
                throw new VerificationException(
                    $"tile {TilePath.Tile(level, index, width)} has {data.Length} bytes; restoring a tree of size " +
                    $"{size} needs {width} hashes ({width * HashSize} bytes) there");
            }

            var tile = builder.TileBuffer(level);
            data.Span.CopyTo(tile);
            builder.PushSubtreesOf(level, tile.AsSpan(0, width * HashSize), width);
        }

        return builder;
    }

    /// <summary>The Merkle tree hash at <see cref="Size"/>, in O(log n) hashes; SHA-256 of nothing when empty.</summary>
    public byte[] Root()
    {
        if (_stackCount == 0)
        {
            return Rfc6962.EmptyRoot.ToArray();
        }

        var root = _stackHashes.AsSpan((_stackCount - 1) * HashSize, HashSize).ToArray();
        for (var i = _stackCount - 2; i >= 0; i--)
        {
            Rfc6962.NodeHash(_stackHashes.AsSpan(i * HashSize, HashSize), root, root);
        }

        return root;
    }

    /// <summary>
    /// Appends leaf hashes and returns every tile whose content changed, each with its whole current content:
    /// a tile that filled up once with all 256 hashes, and each level's partial tile as it now stands.
    /// </summary>
    public IReadOnlyList<TileWrite> Append(IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        for (var i = 0; i < leafHashes.Count; i++)
        {
            if (leafHashes[i] is not { Length: HashSize })
            {
                throw new ArgumentException($"leaf hash {i} must be {HashSize} bytes", nameof(leafHashes));
            }
        }

        if (leafHashes.Count > long.MaxValue - Size)
        {
            throw new ArgumentException($"appending {leafHashes.Count} leaves to a tree of size {Size} overflows", nameof(leafHashes));
        }

        var writes = new List<TileWrite>();
        foreach (var leaf in leafHashes)
        {
            AppendLeaf(leaf, writes);
        }

        for (var level = 0; level < Levels; level++)
        {
            if (!_dirty[level])
            {
                continue;
            }

            _dirty[level] = false;
            var width = TilePath.PartialWidth(level, Size);
            writes.Add(new TileWrite(level, TilePath.FullTileCount(level, Size), _tiles[level].AsSpan(0, width * HashSize).ToArray()));
        }

        return writes;
    }

    private void AppendLeaf(byte[] leaf, List<TileWrite> writes)
    {
        Size++;
        AddToTile(0, leaf, writes);
        leaf.CopyTo(_stackHashes.AsSpan(_stackCount * HashSize, HashSize));
        _stackHeights[_stackCount++] = 0;

        // Merging equal-height neighbours is binary addition of one to the size.
        while (_stackCount >= 2 && _stackHeights[_stackCount - 1] == _stackHeights[_stackCount - 2])
        {
            var left = _stackHashes.AsSpan((_stackCount - 2) * HashSize, HashSize);
            Rfc6962.NodeHash(left, _stackHashes.AsSpan((_stackCount - 1) * HashSize, HashSize), left);
            _stackCount--;
            var height = ++_stackHeights[_stackCount - 1];
            if (height % TilePath.Height == 0)
            {
                AddToTile(height / TilePath.Height, left, writes);
            }
        }
    }

    private void AddToTile(int level, ReadOnlySpan<byte> hash, List<TileWrite> writes)
    {
        var node = (Size >> (level * TilePath.Height)) - 1;
        var position = (int)(node % TilePath.FullWidth);
        var tile = TileBuffer(level);
        hash.CopyTo(tile.AsSpan(position * HashSize, HashSize));
        if (position == TilePath.FullWidth - 1)
        {
            writes.Add(new TileWrite(level, node / TilePath.FullWidth, (byte[])tile.Clone()));
            _dirty[level] = false;
        }
        else
        {
            _dirty[level] = true;
        }
    }

    private byte[] TileBuffer(int level) => _tiles[level] ??= new byte[TilePath.FullWidth * HashSize];

    // Pushes the perfect subtrees of a partial tile of `width` hashes: one of 2^b hashes per set bit b, left first.
    private void PushSubtreesOf(int level, ReadOnlySpan<byte> hashes, int width)
    {
        var position = 0;
        for (var bit = TilePath.Height - 1; bit >= 0; bit--)
        {
            var count = 1 << bit;
            if ((width & count) == 0)
            {
                continue;
            }

            HashUp(hashes.Slice(position * HashSize, count * HashSize), count, _stackHashes.AsSpan(_stackCount * HashSize, HashSize));
            _stackHeights[_stackCount++] = (level * TilePath.Height) + bit;
            position += count;
        }
    }

    private static void HashUp(ReadOnlySpan<byte> hashes, int count, Span<byte> destination)
    {
        if (count == 1)
        {
            hashes.CopyTo(destination);
            return;
        }

        Span<byte> children = stackalloc byte[2 * HashSize];
        var half = count / 2;
        HashUp(hashes[..(half * HashSize)], half, children[..HashSize]);
        HashUp(hashes[(half * HashSize)..], half, children[HashSize..]);
        Rfc6962.NodeHash(children[..HashSize], children[HashSize..], destination);
    }
}
