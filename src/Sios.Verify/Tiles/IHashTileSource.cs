namespace Sios.Verify.Tiles;

/// <summary>Somewhere hash tiles can be read from: a store, an HTTP client, a directory.</summary>
public interface IHashTileSource
{
    /// <summary>
    /// Returns exactly <paramref name="width"/> * 32 bytes: the first <paramref name="width"/> hashes of tile
    /// (<paramref name="level"/>, <paramref name="index"/>).
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>> ReadTileAsync(int level, long index, int width, CancellationToken cancellationToken);
}
