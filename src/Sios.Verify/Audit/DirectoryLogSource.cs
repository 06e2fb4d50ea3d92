using Sios.Verify.Merkle;
using Sios.Verify.Tiles;

namespace Sios.Verify.Audit;

/// <summary>
/// A log published as static tlog-tiles files (<c>checkpoint</c>, <c>tile/...</c>, <c>tile/entries/...</c>) in a
/// folder, as any web server would serve them. A missing partial tile falls back to the full tile, truncated,
/// as tlog-tiles allows clients to do.
/// </summary>
public sealed class DirectoryLogSource(string root) : IPublishedLog
{
    /// <summary>Largest file read: a full entry bundle of 256 maximal entries.</summary>
    private const long MaxFileBytes = TilePath.FullWidth * (2L + ushort.MaxValue);

    /// <summary>The folder holding the published log.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Reads the published <c>checkpoint</c> file.</summary>
    public byte[] ReadCheckpoint() => Read("checkpoint", 1 << 20) ?? throw new VerificationException($"{Path.Combine(Root, "checkpoint")} is missing");

    /// <summary>Reads the published <c>checkpoint</c> file.</summary>
    public ValueTask<byte[]> ReadCheckpointAsync(CancellationToken cancellationToken) => ValueTask.FromResult(ReadCheckpoint());

    /// <summary>Reads the first <paramref name="width"/> hashes of a tile, from its partial or its full file.</summary>
    public ValueTask<ReadOnlyMemory<byte>> ReadTileAsync(int level, long index, int width, CancellationToken cancellationToken)
    {
        var (bytes, fromFull) = ReadTileFile(TilePath.Tile(level, index, width), TilePath.Tile(level, index, TilePath.FullWidth), width);
        // A tile file holds exactly its hashes: bytes beyond them are no part of the log, and a log that carries them is not intact.
        var expected = (fromFull ? TilePath.FullWidth : width) * Rfc6962.HashSize;
        if (bytes.Length != expected)
        {
            throw new VerificationException($"{(fromFull ? TilePath.Tile(level, index, TilePath.FullWidth) : TilePath.Tile(level, index, width))} holds {bytes.Length} bytes, not {expected}");
        }

        return ValueTask.FromResult<ReadOnlyMemory<byte>>(bytes.AsMemory(0, width * Rfc6962.HashSize));
    }

    /// <summary>Reads an entry bundle; a full bundle stands in for a missing partial one (only its prefix is used).</summary>
    public ValueTask<ReadOnlyMemory<byte>> ReadEntryBundleAsync(long index, int width, CancellationToken cancellationToken)
    {
        var (bytes, fromFull) = ReadTileFile(TilePath.EntryBundle(index, width), TilePath.EntryBundle(index, TilePath.FullWidth), width);
        return ValueTask.FromResult<ReadOnlyMemory<byte>>(fromFull ? EntryBundle.Prefix(bytes, width) : bytes);
    }

    /// <summary>Reads a tile or bundle file; for a partial one that is gone, the full one (FromFull tells which).</summary>
    private (byte[] Bytes, bool FromFull) ReadTileFile(string path, string fullPath, int width)
    {
        if (Read(path, MaxFileBytes) is { } exact)
        {
            return (exact, false);
        }

        if (width < TilePath.FullWidth && Read(fullPath, MaxFileBytes) is { } full)
        {
            return (full, true);
        }

        throw new VerificationException($"{path} is missing from {Root}");
    }

    private string Local(string path) => Path.Combine(Root, path.Replace('/', Path.DirectorySeparatorChar));

    private byte[]? Read(string path, long limit)
    {
        var file = Local(path);
        if (!File.Exists(file))
        {
            return null;
        }

        if (new FileInfo(file).Length > limit)
        {
            throw new VerificationException($"{path} is larger than any valid file of its kind ({limit} bytes)");
        }

        return File.ReadAllBytes(file);
    }
}
