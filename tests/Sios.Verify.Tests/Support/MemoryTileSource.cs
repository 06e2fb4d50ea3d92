using System.Collections.Concurrent;
using Sios.Verify.Tiles;

namespace Sios.Tests.Support;

/// <summary>Serves tiles from a dictionary (the latest content of each) and records every read.</summary>
internal sealed class MemoryTileSource : IHashTileSource
{
    private readonly IReadOnlyDictionary<(int Level, long Index), byte[]> _tiles;

    public MemoryTileSource(IReadOnlyDictionary<(int Level, long Index), byte[]> tiles) => _tiles = tiles;

    public ConcurrentQueue<TileAddress> Reads { get; } = new();

    /// <summary>Returns the first <paramref name="width"/> hashes, or fewer bytes if the stored tile is shorter.</summary>
    public ValueTask<ReadOnlyMemory<byte>> ReadTileAsync(int level, long index, int width, CancellationToken cancellationToken)
    {
        Reads.Enqueue(new TileAddress(false, level, index, width));
        if (!_tiles.TryGetValue((level, index), out var content))
        {
            return ValueTask.FromResult(ReadOnlyMemory<byte>.Empty);
        }

        return ValueTask.FromResult<ReadOnlyMemory<byte>>(content.AsMemory(0, Math.Min(content.Length, width * 32)));
    }
}
